#pragma once
// The daemon's trust rules: who a caller is (root, an admin, a user, a token), which
// processes it may profile, whose sessions it may see, and whether and as whom a
// program is launched for it. pyprofd runs as root; through it a caller may do what
// the kernel would let that caller do itself, and the configuration's `targets`
// narrow that further for everyone:
//  - root and members of access.admin_group may profile any process;
//  - anyone else only processes that run with its own uid throughout (real,
//    effective, saved; the same for the group where the kernel told us it) and are
//    dumpable: the rule ptrace applies (ptrace_may_access), so a setuid program, or
//    one that made itself undumpable, stays out of reach;
//  - a session belongs to whoever started it; only they and admins see it;
//  - programs are launched only where targets.allow_commands says so, as the caller
//    (root only for root); an admin token's run as targets.command_user.
#include <sys/types.h>

#include <expected>
#include <map>
#include <optional>
#include <string>

#include "config/daemon_config.hpp"
#include "daemon/caller.hpp"
#include "daemon/launched_program.hpp"

namespace pyprofd::daemon {

class AccessPolicy {
public:
    // Looks up the admin group, the token users and command_user; the error names
    // the key at fault. config_path is where to say the settings live.
    static std::expected<AccessPolicy, std::string> from(const config::DaemonConfig& config, std::string config_path = {});

    // A caller the kernel identified; gid and pid where it said them.
    Caller local_caller(uid_t uid, std::optional<gid_t> gid = std::nullopt, std::optional<pid_t> pid = std::nullopt) const;
    // A caller a configured token identified.
    Caller token_caller(const config::AccessToken& token) const;

    // Whether this caller may read this running process; the error says which rule
    // refuses it, in words the caller can act on.
    std::expected<void, std::string> allows_process(const Caller& caller, pid_t pid) const;
    // Whether a program may be launched for this caller, and as whom it would run
    // (path: the resolved program).
    std::expected<RunAs, std::string> launch_as(const Caller& caller, const std::string& path) const;
    // The same before the program is known: whether this caller may launch at all, as whom.
    std::expected<RunAs, std::string> launch_user(const Caller& caller) const;
    // Whether the caller may see a session owned by owner (Caller::owner()).
    bool may_see(const Caller& caller, const std::string& owner) const {
        return caller.admin || caller.owner() == owner;
    }

private:
    AccessPolicy(config::TargetPolicy targets, std::optional<gid_t> admin_gid, RunAs command_user, std::string config_path)
        : targets_(std::move(targets)), admin_gid_(admin_gid), command_user_(std::move(command_user)),
          config_path_(std::move(config_path)) {}
    bool is_admin(uid_t uid, std::optional<gid_t> gid) const;
    std::expected<void, std::string> caller_may_trace(const Caller& caller, pid_t pid) const;
    std::expected<void, std::string> allows_uid(unsigned uid, const std::string& whose) const;
    std::expected<void, std::string> allows_executable(const std::string& path, const std::string& whose) const;

    config::TargetPolicy targets_;
    std::optional<gid_t> admin_gid_;
    RunAs command_user_;
    std::string config_path_;
    std::map<std::string, RunAs> token_users_;  // by token name, for tokens that act as a user
};

}  // namespace pyprofd::daemon
