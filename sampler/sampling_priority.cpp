#include "sampler/sampling_priority.hpp"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {
namespace {

std::atomic<unsigned> realtime_threads{0};

std::chrono::nanoseconds thread_cpu_time() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// The lowest real-time priority: above every normal task, below any real-time
// work the host has of its own. Reset on fork, so that nothing this thread starts
// inherits it.
bool enter_realtime(std::string& why) {
    sched_param param{};
    param.sched_priority = 1;
    if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0) return true;
    why = fmt::format("the kernel refused the real-time class ({})", std::strerror(errno));
    return false;
}

void leave_realtime() {
    sched_param param{};
    ::sched_setscheduler(0, SCHED_OTHER, &param);  // lowering is always allowed
}

}  // namespace

const char* to_string(SamplingPriorityState state) {
    switch (state) {
        case SamplingPriorityState::normal: return "normal";
        case SamplingPriorityState::realtime: return "realtime";
        case SamplingPriorityState::lowered: return "lowered";
    }
    return "normal";
}

unsigned realtime_sampler_slots() {
    long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    return static_cast<unsigned>(std::max(1L, cpus / 2));
}

SamplingPriority::SamplingPriority(bool want_realtime) {
    if (!want_realtime) {
        report_.why = "the normal class was asked for (blocking samples stay in it)";
        return;
    }
    unsigned used = realtime_threads.load();
    do {
        if (used >= realtime_sampler_slots()) {
            report_.why = fmt::format("{} other sampling threads were real-time already, the most at once",
                                      realtime_sampler_slots());
            return;
        }
    } while (!realtime_threads.compare_exchange_weak(used, used + 1));
    holds_slot_ = true;
    if (!enter_realtime(report_.why)) {
        realtime_threads.fetch_sub(1);
        holds_slot_ = false;
        return;
    }
    report_.state = SamplingPriorityState::realtime;
    realtime_now_ = true;
    window_start_ = std::chrono::steady_clock::now();
    cpu_at_window_start_ = thread_cpu_time();
}

SamplingPriority::~SamplingPriority() {
    if (realtime_now_) leave_realtime();
    if (holds_slot_) realtime_threads.fetch_sub(1);
}

void SamplingPriority::after_tick(std::chrono::steady_clock::time_point now) {
    if (!holds_slot_) return;
    auto wall = now - window_start_;
    if (wall < realtime_budget_window) return;
    auto cpu = thread_cpu_time();
    double share = std::chrono::duration<double>(cpu - cpu_at_window_start_).count() /
                   std::chrono::duration<double>(wall).count();
    window_start_ = now;
    cpu_at_window_start_ = cpu;
    ++windows_;
    if (share > max_realtime_core_share) {
        ++windows_over_;
        highest_share_ = std::max(highest_share_, share);
        report_ = {SamplingPriorityState::lowered,
                   fmt::format("it used more than {:.0f}% of a core in {} of {} seconds (at most {:.0f}%); after each it "
                               "sampled in the normal class until a second within that share",
                               100 * max_realtime_core_share, windows_over_, windows_, 100 * highest_share_)};
        if (realtime_now_) leave_realtime();
        realtime_now_ = false;
    } else if (!realtime_now_) {
        std::string refused;
        realtime_now_ = enter_realtime(refused);
    }
}

}  // namespace pyprofd::sampler
