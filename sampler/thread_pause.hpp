#pragma once
// Blocking mode: threads of the target stopped for the length of one sample, so
// the stacks read are exact rather than read while they change. Which threads
// must stop for that is the caller's to decide (python_process.cpp stops the GIL's
// holder, and every thread where it cannot prove that enough): a pause holds the
// threads it was asked for, and can be widened to every thread.
//
// Threads are stopped with PTRACE_SEIZE + PTRACE_INTERRUPT and released with
// PTRACE_DETACH. The pause can never be left in place: the destructor releases
// every thread, and if pyprofd (or only the thread that paused) dies, the kernel
// detaches its tracees and they run on. SEIZE (not ATTACH) sends no SIGSTOP, so a
// sample leaves no signal behind; a signal that arrives while a thread is held
// is handed back to it on release.
//
// ptrace belongs to the thread that attached: pause and release on one thread.
//
// A pause is bounded: a thread that does not stop within pause_deadline (one
// waiting for its vfork child, say, which no signal interrupts) makes that sample
// fail, and every thread already held runs on at once. Such a thread stays seized,
// its interrupt pending, until it stops: a StragglerThreads list releases it then,
// at the next pause or when the list is destroyed (and the kernel does when the
// sampling thread ends, whatever happened).
#include <sys/types.h>

#include <chrono>
#include <span>
#include <vector>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

// How long a sample waits for the target's threads to stop.
constexpr std::chrono::milliseconds pause_deadline{100};

// Threads an earlier pause seized that had not stopped in time.
class StragglerThreads {
public:
    StragglerThreads() = default;
    StragglerThreads(StragglerThreads&&) noexcept = default;
    StragglerThreads& operator=(StragglerThreads&&) noexcept = default;
    ~StragglerThreads();  // releases those that stop within pause_deadline

    // Releases those that have stopped since (or exited); true when none is left.
    bool settle();
    bool contains(pid_t tid) const;
    void add(pid_t tid) { tids_.push_back(tid); }
    std::size_t size() const { return tids_.size(); }

private:
    std::vector<pid_t> tids_;
};

class ThreadPause {
public:
    // Stops every thread of pid now, including threads started while they are being
    // stopped. Threads that exit meanwhile are skipped; fails if no thread could be
    // stopped (the process is gone, or another tracer such as gdb holds it, or
    // ptrace is not permitted), and with target_unresponsive if a thread does not
    // stop within pause_deadline (it joins stragglers, and the others are released
    // before this returns).
    static Result<ThreadPause> pause_all(pid_t pid, StragglerThreads& stragglers);
    // Stops only these threads of pid. Those that have exited are skipped, so the
    // pause may hold fewer (or none): the caller checks paused(). Fails as pause_all
    // does when a thread does not stop in time, or ptrace is refused.
    static Result<ThreadPause> pause_threads(pid_t pid, std::span<const pid_t> tids, StragglerThreads& stragglers);
    // Widens this pause to every thread of the process (as pause_all); on failure the
    // threads held so far stay held until the pause is destroyed.
    Result<void> pause_the_rest(StragglerThreads& stragglers);
    // Fails, saying by whom, if another process (a debugger, strace, another
    // profiler) traces pid: a process has one tracer at a time, so every pause
    // would fail. Checked before blocking sampling starts.
    static Result<void> check_not_traced(pid_t pid);

    ThreadPause(ThreadPause&& other) noexcept;
    ThreadPause& operator=(ThreadPause&&) = delete;
    ~ThreadPause();

    const std::vector<pid_t>& paused() const { return held_; }
    bool holds(pid_t tid) const;

private:
    explicit ThreadPause(pid_t pid) : pid_(pid) {}
    void hold(pid_t tid, int pending_signal);
    // Seizes, interrupts and waits for each of tids not held yet; sets first_errno to
    // the first refusal other than "no such thread".
    Result<void> stop(std::span<const pid_t> tids, StragglerThreads& stragglers, int& first_errno);
    Result<void> fail_if_none_held(int first_errno) const;

    pid_t pid_ = 0;
    std::vector<pid_t> held_;
    std::vector<int> pending_signals_;  // per held thread: a signal to hand back on release
};

}  // namespace pyprofd::sampler
