#pragma once
// The keeper: a small process of pyprofd's (forked, never exec'd) that starts a
// launched program as its own child and sees that nothing the program started
// outlives it. It is the subreaper of the program's whole subtree, so every orphan
// below it (a `setsid` grandchild, a double fork) becomes its child and is reaped
// at once; and when told to end (or when pyprofd dies and its pipe reads end of
// file), it signals every process below it, kills what is left (by the program's
// cgroup where it has one, else process by process) and exits only when it has no
// child left.
//
// Its exit status: 0 when all is ended (and the cgroup removed), 10 + errno when the
// cgroup could not be removed (the next pyprofd to start removes it).
//
// It runs in a forked child of a multithreaded process: only async-signal-safe
// calls, on what the daemon prepared before fork (KeeperPlan).
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>

namespace pyprofd::daemon {

struct RunAs;

// Which step of starting the program failed, as sent on the exec-error pipe.
enum class LaunchStep : std::int32_t { fork, cgroup, session, credentials, directory, output, limits, exec };
struct LaunchFailure {
    LaunchStep step;
    std::int32_t error;  // errno
};

// What the keeper tells pyprofd: the program's PID once it is started, its wait
// status once it has exited. End of file: the keeper has ended everything and exits.
struct KeeperReport {
    enum Kind : std::int32_t { started = 'P', exited = 'X' };
    std::int32_t kind;
    std::int32_t value;
};

// What pyprofd tells the keeper: end everything, SIGTERM first and SIGKILL after
// grace_ms. End of file (pyprofd died) means the same with no grace.
struct KeeperCommand {
    std::int32_t grace_ms;
};

struct KeeperPlan {
    // The program: execve's arguments, as whom it runs (null: as pyprofd).
    const char* path = nullptr;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const RunAs* run_as = nullptr;
    // The descriptor limit pyprofd started with, which it raised for itself (null:
    // the program keeps pyprofd's).
    const rlimit* descriptor_limit = nullptr;
    // Clean: a session of its own with no terminal, stdin from null_fd, stdout and
    // stderr to output_fd, in working_directory (entered as run_as). Otherwise it
    // keeps pyprofd's stdin, stdout, stderr and directory, in a process group of its own.
    bool clean = false;
    const char* working_directory = nullptr;
    int null_fd = -1;    // /dev/null, read-write
    int output_fd = -1;  // clean: the write end of the output pipe
    // The program's cgroup, where it has one (else -1): the program moves itself into
    // it before anything else; the keeper kills it and removes it at the end.
    int cgroup_procs_fd = -1;
    int cgroup_kill_fd = -1;
    int cgroup_parent_fd = -1;
    const char* cgroup_name = nullptr;
    // Pipes to and from pyprofd.
    int command_fd = -1;     // read end: KeeperCommand
    int report_fd = -1;      // write end: KeeperReport
    int exec_error_fd = -1;  // write end: LaunchFailure, from the program (closed on exec) or the keeper
};

[[noreturn]] void run_keeper(const KeeperPlan& plan);

}  // namespace pyprofd::daemon
