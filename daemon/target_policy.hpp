#pragma once
// Which processes the daemon may read, and as whom it launches programs: the
// configuration's `targets` (allowed users, allowed executables, command_user).
// Reading a process's memory reads its secrets; this is where a host narrows that.
#include <sys/types.h>

#include <expected>
#include <optional>
#include <string>

#include "config/daemon_config.hpp"
#include "daemon/launched_program.hpp"

namespace pyprofd::daemon {

class TargetPolicy {
public:
    // Looks up command_user; the error names it.
    static std::expected<TargetPolicy, std::string> from(const config::TargetPolicy& config);

    // Whether a running process may be profiled; the error says which rule refuses it.
    std::expected<void, std::string> allows_process(pid_t pid) const;
    // Whether a program may be launched for a session (its resolved path).
    std::expected<void, std::string> allows_program(const std::string& path) const;
    const RunAs& command_user() const { return run_as_; }

private:
    TargetPolicy(config::TargetPolicy config, RunAs run_as) : config_(std::move(config)), run_as_(std::move(run_as)) {}
    std::expected<void, std::string> allows_uid(unsigned uid, const std::string& whose) const;
    std::expected<void, std::string> allows_executable(const std::string& path, const std::string& whose) const;

    config::TargetPolicy config_;
    RunAs run_as_;
};

}  // namespace pyprofd::daemon
