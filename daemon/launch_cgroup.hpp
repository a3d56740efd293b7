#pragma once
// A cgroup v2 for each program pyprofd launches, where the host lets pyprofd make
// them. The program moves itself into its own before it runs, so everything it ever
// starts is in it, and none of it can move out (the cgroup's files are root's); its
// keeper ends it with cgroup.kill, all at once and with no race against fork.
//
// They are made below pyprofd's own cgroup, and only where that is pyprofd's to
// divide: a cgroup systemd manages only if systemd delegated it (Delegate=yes,
// which marks it with the trusted.delegate attribute), writable (not under
// ProtectControlGroups=), on a kernel with cgroup.kill (5.14). Elsewhere each
// keeper does the same as the subreaper of the program's subtree, process by
// process (daemon/program_keeper).
#include <expected>
#include <string>
#include <vector>

namespace pyprofd::daemon {

struct LaunchCgroups {
    std::string parent;   // the directory the programs' cgroups are made in; empty: none
    std::string why_not;  // without one: why
    // Cgroups a pyprofd that no longer runs left in parent (its keepers were killed
    // too, or the kernel kept one busy past their wait), removed by find(), and the
    // processes still in them, which outlived their session, killed.
    std::vector<std::string> swept;

    // Looks at pyprofd's own cgroup and tries a cgroup below it (made, joined by a
    // child process, removed).
    static LaunchCgroups find();
    // What launched programs get, and what was swept, for the log.
    std::string describe() const;
};

// One program's cgroup: made on construction, removed (if empty) on destruction.
// The descriptors are for the keeper and the program, which may use no paths.
class ProgramCgroup {
public:
    static std::expected<ProgramCgroup, std::string> make(const std::string& parent);
    ProgramCgroup(ProgramCgroup&& other) noexcept;
    ProgramCgroup& operator=(ProgramCgroup&&) = delete;
    ~ProgramCgroup();

    const std::string& path() const { return path_; }
    const std::string& name() const { return name_; }
    int procs_fd() const { return procs_fd_; }    // cgroup.procs, to write "0" to
    int kill_fd() const { return kill_fd_; }      // cgroup.kill, to write "1" to
    int parent_fd() const { return parent_fd_; }  // the parent directory, to remove it from

private:
    ProgramCgroup() = default;
    std::string path_, name_;
    int procs_fd_ = -1, kill_fd_ = -1, parent_fd_ = -1;
};

}  // namespace pyprofd::daemon
