#pragma once
// The sampling thread's scheduling priority. On a busy host a sampler in the normal
// class wakes for its tick and then waits for the scheduler: with the target's own
// busy threads and a compile or two on 2 cores, 25-50% of 1 kHz ticks were missed,
// whatever the nice value or EEVDF slice (measured: nice -20 and a 100 us slice left
// 16-37% missed, SCHED_FIFO priority 1 0.1-0.2%). So the thread asks for the
// real-time class at its lowest priority, where a wake-up preempts normal tasks at
// once, and bounds what that may cost the host:
//  - its CPU share is measured every window; past max_realtime_core_share of one
//    core it goes back to the normal class for the next window, and returns to the
//    real-time class after a window within that share (a burst, such as the first
//    samples reading every code object, costs one window; a target or rate too costly
//    to sample within the share stays in the normal class), and says so;
//  - at most realtime_sampler_slots() threads of this process are real-time at once
//    (half the CPUs, at least one), so that together they cannot hold more than a
//    fraction of the host;
//  - the kernel's real-time throttling, and under systemd LimitRTPRIO/LimitRTTIME,
//    stay as the backstop.
// Where the kernel refuses (no CAP_SYS_NICE and no RLIMIT_RTPRIO, a seccomp filter,
// a cgroup without real-time time), sampling goes on in the normal class.
#include <chrono>
#include <string>

namespace pyprofd::sampler {

// The most of one core a real-time sampling thread may use, measured over a window.
constexpr double max_realtime_core_share = 0.5;
constexpr std::chrono::milliseconds realtime_budget_window{1000};

enum class SamplingPriorityState {
    normal,    // the normal class throughout: not asked for, refused, or no slot free
    realtime,  // the real-time class throughout
    lowered,   // real-time, but normal for the windows after one that used more than its share
};

struct SamplingPriorityReport {
    SamplingPriorityState state = SamplingPriorityState::normal;
    std::string why;  // for normal and lowered: the reason, in words
};

const char* to_string(SamplingPriorityState state);

// How many of this process's threads may sample in the real-time class at once.
unsigned realtime_sampler_slots();

// Held by a sampling thread for the length of its run: raises the calling thread's
// priority where allowed, watches its CPU share, and restores the normal class (and
// frees its slot) when it ends. Not movable: it belongs to the thread that made it.
class SamplingPriority {
public:
    explicit SamplingPriority(bool want_realtime);
    ~SamplingPriority();
    SamplingPriority(const SamplingPriority&) = delete;
    SamplingPriority& operator=(const SamplingPriority&) = delete;

    // After each tick (now: the loop's own clock reading after it): checks the share
    // of the window that has ended, if one has.
    void after_tick(std::chrono::steady_clock::time_point now);
    const SamplingPriorityReport& report() const { return report_; }

private:
    bool holds_slot_ = false;
    bool realtime_now_ = false;
    std::chrono::steady_clock::time_point window_start_{};
    std::chrono::nanoseconds cpu_at_window_start_{0};
    unsigned windows_ = 0, windows_over_ = 0;
    double highest_share_ = 0;
    SamplingPriorityReport report_;
};

}  // namespace pyprofd::sampler
