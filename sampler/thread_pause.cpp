#include "sampler/thread_pause.hpp"

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "sampler/proc_files.hpp"

namespace pyprofd::sampler {
namespace {

// Waits for a thread we interrupted to stop. Returns false if it is gone; sets
// pending_signal when it stopped to take delivery of a signal (which then must be
// handed back on release, or it would be lost).
bool wait_for_stop(pid_t tid, int& pending_signal) {
    pending_signal = 0;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(tid, &status, __WALL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return false;  // ECHILD: it exited and is no longer ours
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) return false;
        if (!WIFSTOPPED(status)) continue;
        int event = status >> 16;
        // PTRACE_EVENT_STOP is our interrupt (or a group stop): nothing to hand back.
        if (event == 0) pending_signal = WSTOPSIG(status);
        return true;
    }
}

}  // namespace

Result<ThreadPause> ThreadPause::pause_all(pid_t pid) {
    auto tids = list_threads(pid);
    if (!tids) return std::unexpected(tids.error());
    ThreadPause pause;
    int first_errno = 0;
    std::vector<pid_t> seized;
    seized.reserve(tids->size());
    // Seize and interrupt all before waiting for any, so the threads stop together.
    for (pid_t tid : *tids) {
        if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
            if (errno != ESRCH && first_errno == 0) first_errno = errno;
            continue;
        }
        seized.push_back(tid);
        ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    }
    for (pid_t tid : seized) {
        int signal = 0;
        if (wait_for_stop(tid, signal)) pause.hold(tid, signal);
    }
    if (pause.held_.empty()) {
        if (first_errno == EPERM || first_errno == EACCES)
            return fail(ErrorKind::permission_denied,
                        fmt::format("cannot pause process {} for blocking sampling: {} (is another tracer such as "
                                    "gdb or py-spy attached? pausing needs root or CAP_SYS_PTRACE)",
                                    pid, std::strerror(first_errno)));
        if (first_errno != 0)
            return fail(ErrorKind::read_failed,
                        fmt::format("cannot pause process {}: {}", pid, std::strerror(first_errno)));
        return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid));
    }
    return pause;
}

Result<void> ThreadPause::check_not_traced(pid_t pid) {
    auto tracer = static_cast<pid_t>(read_status_number(pid, "TracerPid").value_or(0));
    // One of our own threads pausing it for another sample is not in the way.
    if (tracer == 0 || ::access(fmt::format("/proc/self/task/{}", tracer).c_str(), F_OK) == 0) return {};
    std::string name = "?";
    if (auto comm = read_proc_file(tracer, "comm"); comm && !comm->empty())
        name = comm->substr(0, comm->find('\n'));
    return fail(ErrorKind::permission_denied,
                fmt::format("process {} is traced by process {} ({}), a debugger or another profiler: blocking "
                            "mode pauses it with ptrace, and a process has one tracer at a time; detach that one, "
                            "or sample without blocking",
                            pid, tracer, name));
}

void ThreadPause::hold(pid_t tid, int pending_signal) {
    held_.push_back(tid);
    pending_signals_.push_back(pending_signal);
}

ThreadPause::ThreadPause(ThreadPause&& other) noexcept
    : held_(std::move(other.held_)), pending_signals_(std::move(other.pending_signals_)) {
    other.held_.clear();
    other.pending_signals_.clear();
}

ThreadPause::~ThreadPause() {
    for (std::size_t i = 0; i < held_.size(); ++i) {
        auto signal = static_cast<std::uintptr_t>(pending_signals_[i]);
        ::ptrace(PTRACE_DETACH, held_[i], nullptr, reinterpret_cast<void*>(signal));
    }
}

}  // namespace pyprofd::sampler
