#include "daemon/python_process_list.hpp"

#include <map>
#include <optional>
#include <string>

#include "daemon/launched_program.hpp"
#include "daemon/session_json.hpp"

namespace pyprofd::daemon {

PythonProcessList list_python_processes(sampler::PythonProcessScan& scan, const AccessPolicy& policy,
                                        const Caller& caller) {
    auto found = scan.scan(caller.admin ? std::nullopt : std::optional<uid_t>(caller.uid));
    PythonProcessList list;
    for (auto& process : found.processes)
        if (policy.allows_process(caller, process.pid)) list.processes.push_back(std::move(process));
    for (pid_t pid : found.unreadable)
        if (policy.allows_process(caller, pid)) ++list.skipped;
    return list;
}

nlohmann::json python_process_list_to_json(const PythonProcessList& list) {
    std::map<uid_t, std::string> names;  // a host's processes have few users: look each up once
    auto name_of = [&](uid_t uid) -> const std::string& {
        auto known = names.find(uid);
        if (known != names.end()) return known->second;
        auto user = known_user(uid);
        return names.emplace(uid, user ? user->name : std::to_string(uid)).first->second;
    };
    auto processes = nlohmann::json::array();
    for (const auto& p : list.processes)
        processes.push_back({
            {"pid", p.pid},
            {"user", name_of(p.uid)},
            {"uid", p.uid},
            {"python_version", p.version ? nlohmann::json(p.version->to_string()) : nlohmann::json(nullptr)},
            {"command_line", p.command_line},
            {"threads", p.threads},
            {"started", iso8601(p.started)},
            {"container", p.other_pid_namespace || p.other_mount_namespace},
            {"pid_namespace", p.other_pid_namespace},
            {"mount_namespace", p.other_mount_namespace},
            {"executable", p.executable},
        });
    return {{"processes", std::move(processes)}, {"skipped", list.skipped}};
}

}  // namespace pyprofd::daemon
