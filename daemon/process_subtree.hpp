#pragma once
// The processes below the calling one, found and signalled with async-signal-safe
// calls only: the keeper (a child of the multithreaded daemon that never execs)
// uses it to end whatever a launched program left behind, wherever it went
// (another process group, another session, a double fork).
//
// It walks /proc/PID/task/TID/children down from the caller. Each process is
// pinned (a pidfd) and checked to be still the child of the process that listed
// it before it is signalled, so a PID that was freed and reused meanwhile is never
// hit. Where the kernel has no children files (CONFIG_PROC_CHILDREN), only the
// caller's own children are found; as their subreaper the caller gets the
// orphans of each one it ends, so repeating ends one generation a round.
#include <sys/types.h>

#include <cstddef>

namespace pyprofd::daemon {

class ProcessSubtree {
public:
    // Maps the walk's work area (without it, a small one of its own serves).
    void prepare();
    // Sends sig to every process below this one; returns how many it reached.
    int signal_all(int sig);

private:
    struct Entry {
        pid_t pid;
        pid_t parent;  // the process whose children file listed it
    };
    void push(pid_t pid, pid_t parent);
    Entry small_[256];
    Entry* stack_ = small_;
    std::size_t capacity_ = 256;
    std::size_t size_ = 0;
};

}  // namespace pyprofd::daemon
