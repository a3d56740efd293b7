#include "daemon/access_policy.hpp"

#include <fnmatch.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>

#include "sampler/proc_files.hpp"

namespace pyprofd::daemon {
namespace {

// The four ids of a /proc/PID/status line ("Uid:\t0\t0\t0\t0"): real, effective,
// saved, filesystem.
std::optional<std::array<std::uint64_t, 4>> status_ids(const std::string& status, std::string_view field) {
    auto at = status.find(fmt::format("\n{}:", field));
    if (at == std::string::npos) return std::nullopt;
    std::string_view rest(status);
    rest.remove_prefix(at + field.size() + 2);
    std::array<std::uint64_t, 4> ids{};
    for (auto& id : ids) {
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
        if (ec != std::errc{}) return std::nullopt;
        rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    }
    return ids;
}

std::string user_name(uid_t uid) {
    auto user = known_user(uid);
    return user ? user->name : std::to_string(uid);
}

std::optional<std::string> executable_of(pid_t pid) {
    auto path = sampler::read_exe_link(pid);
    if (!path) return std::nullopt;
    if (path->ends_with(" (deleted)")) path->resize(path->size() - 10);
    return *path;
}

}  // namespace

std::expected<AccessPolicy, std::string> AccessPolicy::from(const config::DaemonConfig& config, std::string config_path) {
    auto user = look_up_user(config.targets.command_user);
    if (!user) return std::unexpected(fmt::format("targets.command_user: {}", user.error()));
    std::optional<gid_t> admin_gid;
    if (config.access.admin_group) {
        struct group* g = ::getgrnam(config.access.admin_group->c_str());
        if (!g) return std::unexpected(fmt::format("access.admin_group: no group '{}' on this host", *config.access.admin_group));
        admin_gid = g->gr_gid;
    }
    AccessPolicy policy(config.targets, admin_gid, std::move(*user), std::move(config_path));
    for (const auto& token : config.access.tokens) {
        if (!token.user) continue;
        auto as = look_up_user(*token.user);
        unsigned number = 0;
        auto [end, ec] = std::from_chars(token.user->data(), token.user->data() + token.user->size(), number);
        if (!as && ec == std::errc{} && end == token.user->data() + token.user->size()) as = run_as_uid(number);
        if (!as) return std::unexpected(fmt::format("access.tokens: token '{}': {}", token.name, as.error()));
        policy.token_users_.emplace(token.name, std::move(*as));
    }
    return policy;
}

bool AccessPolicy::is_admin(uid_t uid, std::optional<gid_t> gid) const {
    if (uid == 0) return true;
    if (!admin_gid_) return false;
    if (gid == admin_gid_) return true;
    // Membership as the user database says: the same answer by socket or by loopback.
    auto user = known_user(uid);
    return user && (user->gid == *admin_gid_ ||
                    std::find(user->groups.begin(), user->groups.end(), *admin_gid_) != user->groups.end());
}

Caller AccessPolicy::local_caller(uid_t uid, std::optional<gid_t> gid, std::optional<pid_t> pid) const {
    // Where the kernel did not say (loopback TCP), the user's own group stands in: a
    // process running with another group is not the caller's to trace either.
    if (!gid)
        if (auto user = known_user(uid)) gid = user->gid;
    return Caller{.uid = uid, .gid = gid, .pid = pid, .user = user_name(uid), .token = {}, .admin = is_admin(uid, gid)};
}

Caller AccessPolicy::token_caller(const config::AccessToken& token) const {
    if (token.admin) return Caller{.uid = 0, .gid = {}, .pid = {}, .user = "root", .token = token.name, .admin = true};
    const auto& as = token_users_.at(token.name);
    return Caller{.uid = as.uid, .gid = as.gid, .pid = {}, .user = as.name, .token = token.name, .admin = is_admin(as.uid, {})};
}

std::expected<void, std::string> AccessPolicy::caller_may_trace(const Caller& caller, pid_t pid) const {
    if (caller.admin) return {};
    auto status = sampler::read_proc_file(pid, "status");
    if (!status) return {};  // gone: attaching says so
    auto uids = status_ids(*status, "Uid");
    auto gids = status_ids(*status, "Gid");
    if (!uids || !gids) return std::unexpected(fmt::format("process {}: its credentials cannot be read", pid));
    auto you = fmt::format("you ({}) may profile only processes of your own user", caller.describe());
    auto [real, effective, saved, fs] = *uids;
    if (real != caller.uid || effective != caller.uid || saved != caller.uid)
        return std::unexpected(fmt::format("process {} runs as uid {} ({}); {}", pid,
                                           effective != caller.uid ? effective : real == caller.uid ? saved : real,
                                           user_name(static_cast<uid_t>(effective != caller.uid ? effective : real)), you));
    auto [rgid, egid, sgid, fsgid] = *gids;
    if (rgid != egid || egid != sgid || (caller.gid && rgid != *caller.gid))
        return std::unexpected(fmt::format("process {} runs with group ids {}/{}/{} (real/effective/saved), not only your "
                                           "group {}: only root and admins may profile it",
                                           pid, rgid, egid, sgid, caller.gid ? std::to_string(*caller.gid) : "?"));
    // The kernel gives the files of /proc/PID to root while the process is not
    // dumpable (a setuid program, or one that called prctl(PR_SET_DUMPABLE, 0)):
    // ptrace refuses it too. (The directory itself keeps the owner's uid.)
    struct stat st {};
    if (::stat(fmt::format("/proc/{}/stat", pid).c_str(), &st) != 0) return {};
    if (st.st_uid != caller.uid)
        return std::unexpected(fmt::format("process {} is not dumpable (a setuid program, or one that turned dumping "
                                           "off): only root and admins may profile it",
                                           pid));
    return {};
}

std::expected<void, std::string> AccessPolicy::allows_uid(unsigned uid, const std::string& whose) const {
    const auto& allowed = targets_.allowed_uids;
    if (allowed.empty() || std::find(allowed.begin(), allowed.end(), uid) != allowed.end()) return {};
    return std::unexpected(fmt::format("{} runs as uid {}, which targets.allowed_uids does not list", whose, uid));
}

std::expected<void, std::string> AccessPolicy::allows_executable(const std::string& path, const std::string& whose) const {
    const auto& globs = targets_.allowed_executables;
    if (globs.empty()) return {};
    for (const auto& glob : globs)
        if (::fnmatch(glob.c_str(), path.c_str(), FNM_PATHNAME) == 0) return {};
    return std::unexpected(fmt::format("{} runs {}, which no glob of targets.allowed_executables matches", whose, path));
}

std::expected<void, std::string> AccessPolicy::allows_process(const Caller& caller, pid_t pid) const {
    if (pid == ::getpid()) return std::unexpected("pyprofd does not profile itself");
    if (auto ok = caller_may_trace(caller, pid); !ok) return ok;
    auto whose = fmt::format("process {}", pid);
    auto uid = sampler::read_status_number(pid, "Uid");  // real, effective, saved, fs: the first
    if (!uid) return {};  // gone: attaching will say so
    if (auto ok = allows_uid(static_cast<unsigned>(*uid), whose); !ok) return ok;
    auto exe = executable_of(pid);
    if (!exe) return targets_.allowed_executables.empty() ? std::expected<void, std::string>{}
                                                          : std::unexpected(whose + ": its executable cannot be read");
    return allows_executable(*exe, whose);
}

std::expected<RunAs, std::string> AccessPolicy::launch_as(const Caller& caller, const std::string& path) const {
    auto as = launch_user(caller);
    if (!as) return as;
    if (auto ok = allows_executable(path, "the command"); !ok) return std::unexpected(ok.error());
    return as;
}

std::expected<RunAs, std::string> AccessPolicy::launch_user(const Caller& caller) const {
    if (!targets_.allow_commands)
        return std::unexpected(fmt::format(
            "this daemon does not launch programs (targets.allow_commands is off): give the pid of a running process, "
            "or turn it on in {}; under systemd, also install the drop-in that grants what launching as another user "
            "needs: allow-commands.conf from pyprofd's documentation, as "
            "/etc/systemd/system/pyprofd.service.d/allow-commands.conf",
            config_path_.empty() ? "the configuration" : config_path_));
    RunAs as;
    if (!caller.token.empty() && caller.admin) {
        as = command_user_;
    } else if (!caller.token.empty()) {
        as = token_users_.at(caller.token);
    } else {
        as = run_as_uid(caller.uid, caller.gid);
    }
    if (auto ok = allows_uid(as.uid, fmt::format("the command (as {})", as.name)); !ok) return std::unexpected(ok.error());
    return as;
}

}  // namespace pyprofd::daemon
