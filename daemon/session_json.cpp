#include "daemon/session_json.hpp"

#include <ctime>
#include <fmt/format.h>

namespace pyprofd::daemon {
namespace {

std::optional<WallClock::time_point> parse_iso8601(const std::string& text) {
    std::tm tm{};
    int millis = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &millis) != 7)
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    auto seconds = ::timegm(&tm);
    if (seconds < 0) return std::nullopt;
    return WallClock::from_time_t(seconds) + std::chrono::milliseconds(millis);
}

}  // namespace

const char* to_string(SessionState state) {
    switch (state) {
        case SessionState::running: return "running";
        case SessionState::completed: return "completed";
        case SessionState::stopped: return "stopped";
        case SessionState::target_exited: return "target_exited";
        case SessionState::failed: return "failed";
        case SessionState::interrupted: return "interrupted";
    }
    return "failed";
}

std::optional<SessionState> session_state_named(std::string_view name) {
    for (auto s : {SessionState::running, SessionState::completed, SessionState::stopped, SessionState::target_exited,
                   SessionState::failed, SessionState::interrupted})
        if (name == to_string(s)) return s;
    return std::nullopt;
}

std::string iso8601(WallClock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

nlohmann::json session_to_json(const SessionInfo& info) {
    const auto& spec = info.spec;
    nlohmann::json options{
        {"rate_hz", spec.rate_hz},
        {"duration_s", spec.duration_s ? nlohmann::json(*spec.duration_s) : nlohmann::json(nullptr)},
        {"idle", spec.aggregation.include_idle},
        {"gil_only", spec.aggregation.gil_only},
        {"threads", spec.aggregation.per_thread},
        {"function", spec.aggregation.by_function},
        {"blocking", spec.blocking},
        {"subprocesses", spec.subprocesses},
    };
    nlohmann::json target{{"pid", info.target_pid ? nlohmann::json(info.target_pid) : nlohmann::json(nullptr)},
                          {"command_line", info.target_command_line},
                          {"python_version", info.python_version},
                          {"working_directory", info.working_directory},
                          {"standard_library", info.standard_library}};
    if (spec.pid) target["requested_pid"] = *spec.pid;
    if (!spec.command.empty()) {
        target["command"] = spec.command;
        target["cwd"] = spec.cwd.empty() ? "/" : spec.cwd;
        auto names = nlohmann::json::array();
        for (const auto& [name, value] : spec.env) names.push_back(name);
        target["env"] = std::move(names);
    }
    nlohmann::json threads = nlohmann::json::array();
    for (const auto& [tid, t] : info.threads)
        threads.push_back({{"tid", tid},
                           {"namespace_tid", t.namespace_tid != 0 ? nlohmann::json(t.namespace_tid) : nlohmann::json(nullptr)},
                           {"name", t.name},
                           {"samples", t.samples}});
    nlohmann::json j{
        {"id", info.id},
        {"name", spec.name},
        {"owner", {{"id", info.owner}, {"name", info.owner_name}}},
        {"state", to_string(info.state)},
        {"target", std::move(target)},
        {"options", std::move(options)},
        {"created_at", iso8601(info.created)},
        {"ended_at", info.ended ? nlohmann::json(iso8601(*info.ended)) : nlohmann::json(nullptr)},
        {"elapsed_s", info.elapsed_s},
        {"samples", info.samples},
        {"samples_expected", info.samples_expected},
        {"errors", {{"failed_samples", info.failed_samples}, {"thread_errors", info.thread_errors}}},
        {"lag_ms", {{"max", info.max_lag_ms}, {"mean", info.mean_lag_ms}}},
        {"threads_seen", std::move(threads)},
    };
    j["sampling_priority"] = info.sampling_priority.empty()
                                 ? nlohmann::json(nullptr)
                                 : nlohmann::json{{"class", info.sampling_priority}, {"why", info.sampling_priority_why}};
    if (spec.subprocesses) {
        auto processes = nlohmann::json::array();
        for (const auto& p : info.processes) {
            nlohmann::json process{{"pid", p.pid},
                                   {"command_line", p.command_line},
                                   {"python_version", p.python_version},
                                   {"working_directory", p.working_directory},
                                   {"standard_library", p.standard_library},
                                   {"samples", p.samples},
                                   {"state", to_string(p.state)}};
            if (p.parent) process["parent"] = p.parent;
            if (!p.error.empty()) process["error"] = p.error;
            processes.push_back(std::move(process));
        }
        j["processes"] = std::move(processes);
        const auto& skipped = info.skipped_processes;
        j["processes_skipped"] = {{"not_permitted", skipped.not_permitted},
                                  {"over_limit", skipped.over_limit},
                                  {"out_of_descriptors", skipped.out_of_descriptors}};
        j["errors"]["failed_processes"] = skipped.failed;
    }
    if (info.state == SessionState::failed) j["failure"] = info.failure;
    if (!info.save_error.empty()) j["save_error"] = info.save_error;
    if (info.truncated_samples > 0)
        j["truncated"] = {{"samples", info.truncated_samples}, {"limit", info.truncated_by}};
    return j;
}

std::expected<SessionInfo, std::string> session_from_json(const nlohmann::json& j) {
    try {
        SessionInfo info;
        info.id = j.at("id").get<std::string>();
        info.spec.name = j.at("name").get<std::string>();
        auto state = session_state_named(j.at("state").get<std::string>());
        if (!state) return std::unexpected("unknown state " + j.at("state").dump());
        info.state = *state;
        const auto& target = j.at("target");
        if (!target.at("pid").is_null()) info.target_pid = target.at("pid").get<pid_t>();
        info.target_command_line = target.at("command_line").get<std::vector<std::string>>();
        info.python_version = target.at("python_version").get<std::string>();
        // Records saved before sources were kept have none.
        info.working_directory = target.value("working_directory", std::string());
        info.standard_library = target.value("standard_library", std::string());
        if (target.contains("requested_pid")) info.spec.pid = target.at("requested_pid").get<pid_t>();
        if (target.contains("command")) info.spec.command = target.at("command").get<std::vector<std::string>>();
        if (target.contains("cwd")) info.spec.cwd = target.at("cwd").get<std::string>();
        if (target.contains("env"))
            for (const auto& name : target.at("env")) info.spec.env[name.get<std::string>()];  // names only
        const auto& o = j.at("options");
        info.spec.rate_hz = o.at("rate_hz").get<double>();
        if (!o.at("duration_s").is_null()) info.spec.duration_s = o.at("duration_s").get<double>();
        else info.spec.duration_s.reset();
        info.spec.aggregation.include_idle = o.at("idle").get<bool>();
        info.spec.aggregation.gil_only = o.at("gil_only").get<bool>();
        info.spec.aggregation.per_thread = o.at("threads").get<bool>();
        info.spec.aggregation.by_function = o.at("function").get<bool>();
        info.spec.blocking = o.at("blocking").get<bool>();
        info.spec.subprocesses = o.value("subprocesses", false);  // records saved before it was an option
        if (j.contains("processes")) {
            for (const auto& p : j.at("processes")) {
                auto process_state = sampled_process_state_named(p.at("state").get<std::string>());
                if (!process_state) return std::unexpected("unknown process state " + p.at("state").dump());
                info.processes.push_back({.pid = p.at("pid").get<pid_t>(),
                                          .parent = p.value("parent", pid_t{0}),
                                          .command_line = p.at("command_line").get<std::vector<std::string>>(),
                                          .python_version = p.at("python_version").get<std::string>(),
                                          .working_directory = p.value("working_directory", std::string()),
                                          .standard_library = p.value("standard_library", std::string()),
                                          .samples = p.at("samples").get<std::uint64_t>(),
                                          .state = *process_state,
                                          .error = p.value("error", std::string())});
            }
        }
        if (j.contains("processes_skipped")) {
            info.skipped_processes.not_permitted = j.at("processes_skipped").at("not_permitted").get<std::uint64_t>();
            info.skipped_processes.over_limit = j.at("processes_skipped").at("over_limit").get<std::uint64_t>();
            // Records saved before it was counted have none.
            info.skipped_processes.out_of_descriptors =
                j.at("processes_skipped").value("out_of_descriptors", std::uint64_t{0});
        }
        info.skipped_processes.failed = j.at("errors").value("failed_processes", std::uint64_t{0});
        auto created = parse_iso8601(j.at("created_at").get<std::string>());
        if (!created) return std::unexpected("created_at is not a time: " + j.at("created_at").dump());
        info.created = *created;
        if (!j.at("ended_at").is_null()) info.ended = parse_iso8601(j.at("ended_at").get<std::string>());
        info.elapsed_s = j.at("elapsed_s").get<double>();
        info.samples = j.at("samples").get<std::uint64_t>();
        info.samples_expected = j.at("samples_expected").get<std::uint64_t>();
        info.failed_samples = j.at("errors").at("failed_samples").get<std::uint64_t>();
        info.thread_errors = j.at("errors").at("thread_errors").get<std::uint64_t>();
        info.max_lag_ms = j.at("lag_ms").at("max").get<double>();
        info.mean_lag_ms = j.at("lag_ms").at("mean").get<double>();
        if (j.contains("sampling_priority") && j.at("sampling_priority").is_object()) {
            info.sampling_priority = j.at("sampling_priority").at("class").get<std::string>();
            info.sampling_priority_why = j.at("sampling_priority").at("why").get<std::string>();
        }
        for (const auto& t : j.at("threads_seen")) {
            // Sessions saved before namespace TIDs were kept have none.
            pid_t namespace_tid = t.contains("namespace_tid") && !t.at("namespace_tid").is_null()
                                      ? t.at("namespace_tid").get<pid_t>()
                                      : 0;
            info.threads[t.at("tid").get<pid_t>()] = {t.at("name").get<std::string>(),
                                                      t.at("samples").get<std::uint64_t>(), namespace_tid};
        }
        if (j.contains("failure")) info.failure = j.at("failure").get<std::string>();
        if (j.contains("truncated")) {
            info.truncated_samples = j.at("truncated").at("samples").get<std::uint64_t>();
            info.truncated_by = j.at("truncated").at("limit").get<std::string>();
        }
        if (j.contains("owner")) {
            info.owner = j.at("owner").at("id").get<std::string>();
            info.owner_name = j.at("owner").at("name").get<std::string>();
        }
        return info;
    } catch (const nlohmann::json::exception& e) {
        return std::unexpected(std::string("not a session record: ") + e.what());
    }
}

}  // namespace pyprofd::daemon
