#pragma once
// The OS threads (tasks) of a process, found by the ids the process itself knows
// them by. A thread state's native_thread_id (and, before 3.11, the tid in its
// pthread descriptor) is what gettid() returned inside the target, and is not a
// host TID to take on trust:
//   - in a container (its own PID namespace) it is the TID the container sees, which
//     on the host may name another process's thread, or none;
//   - a process forked without the interpreter's after-fork hook (uWSGI's workers)
//     still holds its parent's, which names a task of another process.
// So an id counts only where it names a task of this very process, and is then
// translated to the host's TID: by NSpid in /proc/PID/task/TID/status (its last
// field is the innermost namespace's) where the process is in another PID
// namespace, by /proc/PID/task/ID existing where it is in ours (that directory
// holds only the process's own tasks).
#include <sys/types.h>

#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace pyprofd::sampler {

struct TaskIds {
    pid_t host_tid = 0;       // as pyprofd (the host) sees it
    pid_t namespace_tid = 0;  // as the process sees it: equal to host_tid outside containers
    bool operator==(const TaskIds&) const = default;
};

class ProcessTasks {
public:
    explicit ProcessTasks(pid_t pid);
    ProcessTasks(const ProcessTasks&) = delete;
    ProcessTasks& operator=(const ProcessTasks&) = delete;
    ~ProcessTasks();

    // Whether the process's ids are not ours: it runs in another PID namespace.
    bool in_other_namespace() const { return in_other_namespace_; }
    // The process's own PID as it sees it (its PID namespace's), equal to its PID outside containers.
    pid_t namespace_pid() const { return namespace_pid_; }

    // A sample begins: the task list may be read afresh (once) for an id not met before.
    void begin_sample() { listed_this_sample_ = false; }
    // The task the process knows by `id`, or nothing where none of its tasks has it.
    std::optional<TaskIds> find(pid_t id);
    // Every task now, listed afresh (empty where the process is gone).
    std::vector<TaskIds> list();
    // Forgets the ids not asked for since begin_sample(): their threads have ended,
    // and an id the process gives a new thread must be looked up again.
    void end_sample();

private:
    bool listed(pid_t id) const;
    void remember(const std::vector<TaskIds>& tasks);

    pid_t pid_;
    bool in_other_namespace_ = false;
    pid_t namespace_pid_;
    int task_dir_ = -1;  // /proc/PID/task, held open: a lookup is one fstatat
    bool listed_this_sample_ = false;
    // Ids met, by the process's id: the task, and whether asked for this sample.
    struct Known {
        TaskIds ids;
        bool used = false;
    };
    std::unordered_map<pid_t, Known> known_;
    // Ids that named no task of the process when last looked up (a parent's TID in
    // a forked worker): not looked up again each sample.
    std::unordered_set<pid_t> not_tasks_;
};

// The last number of the NSpid line of a /proc status file (the id in the innermost
// PID namespace), and the first (in the namespace of that /proc), or nothing.
struct NamespaceIds {
    pid_t outer = 0;
    pid_t inner = 0;
};
std::optional<NamespaceIds> parse_nspid(std::string_view status);

}  // namespace pyprofd::sampler
