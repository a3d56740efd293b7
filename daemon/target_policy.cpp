#include "daemon/target_policy.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <limits.h>

#include "sampler/proc_files.hpp"

namespace pyprofd::daemon {
namespace {

std::optional<unsigned> real_uid_of(pid_t pid) {
    auto uid = sampler::read_status_number(pid, "Uid");  // real, effective, saved, fs: the first
    if (!uid) return std::nullopt;
    return static_cast<unsigned>(*uid);
}

std::optional<std::string> executable_of(pid_t pid) {
    char buffer[PATH_MAX];
    auto n = ::readlink(fmt::format("/proc/{}/exe", pid).c_str(), buffer, sizeof buffer - 1);
    if (n < 0) return std::nullopt;
    std::string path(buffer, static_cast<std::size_t>(n));
    if (path.ends_with(" (deleted)")) path.resize(path.size() - 10);
    return path;
}

}  // namespace

std::expected<TargetPolicy, std::string> TargetPolicy::from(const config::TargetPolicy& config) {
    auto user = look_up_user(config.command_user);
    if (!user) return std::unexpected(fmt::format("targets.command_user: {}", user.error()));
    return TargetPolicy(config, std::move(*user));
}

std::expected<void, std::string> TargetPolicy::allows_uid(unsigned uid, const std::string& whose) const {
    const auto& allowed = config_.allowed_uids;
    if (allowed.empty() || std::find(allowed.begin(), allowed.end(), uid) != allowed.end()) return {};
    return std::unexpected(fmt::format("{} runs as uid {}, which targets.allowed_uids does not list", whose, uid));
}

std::expected<void, std::string> TargetPolicy::allows_executable(const std::string& path, const std::string& whose) const {
    const auto& globs = config_.allowed_executables;
    if (globs.empty()) return {};
    for (const auto& glob : globs)
        if (::fnmatch(glob.c_str(), path.c_str(), FNM_PATHNAME) == 0) return {};
    return std::unexpected(fmt::format("{} runs {}, which no glob of targets.allowed_executables matches", whose, path));
}

std::expected<void, std::string> TargetPolicy::allows_process(pid_t pid) const {
    if (pid == ::getpid()) return std::unexpected("pyprofd does not profile itself");
    auto whose = fmt::format("process {}", pid);
    auto uid = real_uid_of(pid);
    if (!uid) return {};  // gone: attaching will say so
    if (auto ok = allows_uid(*uid, whose); !ok) return ok;
    auto exe = executable_of(pid);
    if (!exe) return config_.allowed_executables.empty() ? std::expected<void, std::string>{}
                                                         : std::unexpected(whose + ": its executable cannot be read");
    return allows_executable(*exe, whose);
}

std::expected<void, std::string> TargetPolicy::allows_program(const std::string& path) const {
    if (auto ok = allows_uid(run_as_.uid, fmt::format("the command (as {})", run_as_.name)); !ok) return ok;
    return allows_executable(path, "the command");
}

}  // namespace pyprofd::daemon
