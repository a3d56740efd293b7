#pragma once
// The processes below a process, for sessions that follow a worker tree (a
// gunicorn master's workers, a multiprocessing pool). Found the cheap way where the
// kernel has it: each thread's /proc/PID/task/TID/children lists the children that
// thread started (CONFIG_PROC_CHILDREN), so a walk down from the root reads a few
// small files per process of the tree. Where there are no children files, one scan
// of /proc reads every process's parent (field 4 of /proc/PID/stat) instead.
//
// The answer is a moment's view: a process found may have exited and its PID been
// reused by the time it is looked at. Callers pin each before trusting it.
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <vector>

namespace pyprofd::daemon {

struct DescendantProcess {
    pid_t pid = 0;
    pid_t parent = 0;
};

enum class DescendantSearch {
    automatic,       // children files where the kernel has them, else the /proc scan
    children_files,  // /proc/PID/task/TID/children only
    proc_scan,       // the parent of every process in /proc
};

// The descendants of root (not root itself), parents before their children, at most
// `most` of them (a fork bomb does not make the walk unbounded).
std::vector<DescendantProcess> descendants_of(pid_t root, std::size_t most,
                                              DescendantSearch how = DescendantSearch::automatic);

// The parent of a process from /proc/PID/stat; nothing when it is gone.
std::optional<pid_t> parent_of(pid_t pid);

// Whether this kernel has /proc/PID/task/TID/children files.
bool kernel_lists_children();

}  // namespace pyprofd::daemon
