#include "sampler/thread_pause.hpp"

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <thread>
#include <cstring>
#include <fmt/format.h>

#include "sampler/proc_files.hpp"

namespace pyprofd::sampler {
namespace {

using Clock = std::chrono::steady_clock;

enum class StopWait { stopped, gone, late };

// Waits until `deadline` for a thread we interrupted to stop. Sets pending_signal
// when it stopped to take delivery of a signal (which then must be handed back on
// release, or it would be lost).
StopWait wait_for_stop(pid_t tid, int& pending_signal, Clock::time_point deadline) {
    pending_signal = 0;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(tid, &status, __WALL | WNOHANG);
        if (r < 0) {
            if (errno == EINTR) continue;
            return StopWait::gone;  // ECHILD: it exited and is no longer ours
        }
        if (r == 0) {
            // Most threads stop within microseconds: yield for the first millisecond
            // (the pause must stay short, or signals sent meanwhile merge), then sleep
            // in small steps for the rare slow one.
            auto now = Clock::now();
            if (now >= deadline) return StopWait::late;
            if (deadline - now > pause_deadline - std::chrono::milliseconds(1))
                std::this_thread::yield();
            else
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            continue;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) return StopWait::gone;
        if (!WIFSTOPPED(status)) continue;
        int event = status >> 16;
        // PTRACE_EVENT_STOP is our interrupt (or a group stop): nothing to hand back.
        if (event == 0) pending_signal = WSTOPSIG(status);
        return StopWait::stopped;
    }
}

void release(pid_t tid, int pending_signal) {
    ::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<std::uintptr_t>(pending_signal)));
}

}  // namespace

bool StragglerThreads::settle() {
    std::erase_if(tids_, [](pid_t tid) {
        int signal = 0;
        switch (wait_for_stop(tid, signal, Clock::now())) {
            case StopWait::stopped: release(tid, signal); return true;
            case StopWait::gone: return true;
            case StopWait::late: return false;
        }
        return false;
    });
    return tids_.empty();
}

bool StragglerThreads::contains(pid_t tid) const { return std::find(tids_.begin(), tids_.end(), tid) != tids_.end(); }

StragglerThreads::~StragglerThreads() {
    auto deadline = Clock::now() + pause_deadline;
    while (!settle() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

Result<void> ThreadPause::stop(std::span<const pid_t> tids, StragglerThreads& stragglers, int& first_errno) {
    std::vector<pid_t> seized;
    seized.reserve(tids.size());
    stragglers.settle();
    // Seize and interrupt all before waiting for any, so the threads stop together.
    bool straggler_asked = false;
    for (pid_t tid : tids) {
        if (stragglers.contains(tid)) {  // seized already, its interrupt pending: it runs
            straggler_asked = true;
            continue;
        }
        if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
            if (errno != ESRCH && first_errno == 0) first_errno = errno;
            continue;
        }
        seized.push_back(tid);
        ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
    }
    auto deadline = Clock::now() + pause_deadline;
    std::vector<pid_t> late;
    for (pid_t tid : seized) {
        int signal = 0;
        switch (wait_for_stop(tid, signal, deadline)) {
            case StopWait::stopped: hold(tid, signal); break;
            case StopWait::gone: break;
            case StopWait::late:
                late.push_back(tid);
                stragglers.add(tid);
                break;
        }
    }
    // A straggler not asked for does not matter: the caller stops only threads it
    // needs stopped (and pausing every thread asks for every one).
    if (late.empty() && !straggler_asked) return {};
    // The threads held so far run on as the pause goes; this sample is not exact.
    auto what = late.empty()
                    ? fmt::format("process {}: {} thread(s) interrupted by an earlier sample have still not stopped",
                                  pid_, stragglers.size())
                    : fmt::format("thread {} of process {} did not stop within {} ms", late.front(), pid_,
                                  pause_deadline.count());
    return fail(ErrorKind::target_unresponsive,
                fmt::format("{} for blocking sampling (it may be waiting for a vfork child, or in an "
                            "uninterruptible wait): the sample is skipped",
                            what));
}

Result<void> ThreadPause::fail_if_none_held(int first_errno) const {
    if (!held_.empty()) return {};
    if (first_errno == EPERM || first_errno == EACCES)
        return fail(ErrorKind::permission_denied,
                    fmt::format("cannot pause process {} for blocking sampling: {} (is another tracer such as "
                                "gdb or py-spy attached? pausing needs root or CAP_SYS_PTRACE)",
                                pid_, std::strerror(first_errno)));
    if (first_errno != 0)
        return fail(ErrorKind::read_failed, fmt::format("cannot pause process {}: {}", pid_, std::strerror(first_errno)));
    return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid_));
}

Result<void> ThreadPause::pause_the_rest(StragglerThreads& stragglers) {
    int first_errno = 0;
    // A thread still running while the others stop may start another: list again
    // until a listing finds none new. Stopped threads start none, so this ends; the
    // bound only guards against a process that starts threads faster than we stop them.
    constexpr int max_listings = 16;
    for (int listing = 0; listing < max_listings; ++listing) {
        auto tids = list_threads(pid_);
        if (!tids) {
            if (!held_.empty()) break;  // the process is going; what is held is held
            return std::unexpected(tids.error());
        }
        std::vector<pid_t> held_sorted = held_;
        std::ranges::sort(held_sorted);
        std::erase_if(*tids, [&](pid_t tid) { return std::ranges::binary_search(held_sorted, tid); });
        if (tids->empty()) break;
        const std::size_t held_before = held_.size();
        if (auto ok = stop(*tids, stragglers, first_errno); !ok) return ok;
        // A thread that refused (or exited) stays in the listing: stop when none new was held.
        if (held_.size() == held_before) break;
    }
    return fail_if_none_held(first_errno);
}

Result<ThreadPause> ThreadPause::pause_all(pid_t pid, StragglerThreads& stragglers) {
    ThreadPause pause(pid);
    if (auto ok = pause.pause_the_rest(stragglers); !ok) return std::unexpected(ok.error());
    return pause;
}

Result<ThreadPause> ThreadPause::pause_threads(pid_t pid, std::span<const pid_t> tids, StragglerThreads& stragglers) {
    ThreadPause pause(pid);
    int first_errno = 0;
    std::vector<pid_t> distinct(tids.begin(), tids.end());
    std::ranges::sort(distinct);
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (auto ok = pause.stop(distinct, stragglers, first_errno); !ok) return std::unexpected(ok.error());
    if (pause.held_.empty() && (first_errno == EPERM || first_errno == EACCES))
        return std::unexpected(pause.fail_if_none_held(first_errno).error());
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

bool ThreadPause::holds(pid_t tid) const { return std::find(held_.begin(), held_.end(), tid) != held_.end(); }

void ThreadPause::hold(pid_t tid, int pending_signal) {
    held_.push_back(tid);
    pending_signals_.push_back(pending_signal);
}

ThreadPause::ThreadPause(ThreadPause&& other) noexcept
    : pid_(other.pid_), held_(std::move(other.held_)), pending_signals_(std::move(other.pending_signals_)) {
    other.held_.clear();
    other.pending_signals_.clear();
}

ThreadPause::~ThreadPause() {
    for (std::size_t i = 0; i < held_.size(); ++i) release(held_[i], pending_signals_[i]);
}

}  // namespace pyprofd::sampler
