#include <doctest/doctest.h>

#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "sampler/sampling_loop.hpp"
#include "sampler/sampling_priority.hpp"

using namespace pyprofd::sampler;
using namespace std::chrono_literals;

namespace {

int policy_of_this_thread() { return ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK; }

void burn_cpu_for(std::chrono::nanoseconds how_long) {
    timespec start{}, now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    do ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    while ((now.tv_sec - start.tv_sec) * 1'000'000'000LL + (now.tv_nsec - start.tv_nsec) < how_long.count());
}

}  // namespace

// The tests run as root, where the kernel grants the real-time class.
TEST_CASE("a sampling run is real-time while it lasts and normal after, its children not inheriting it") {
    REQUIRE(::geteuid() == 0);
    REQUIRE(policy_of_this_thread() == SCHED_OTHER);
    int policy_during = -1;
    int child_policy = -1;
    auto result = run_sampling_schedule(
        {.rate_hz = 200, .duration = 100ms},
        [&] {
            policy_during = policy_of_this_thread();
            if (child_policy < 0) {
                pid_t child = ::fork();
                if (child == 0) ::_exit(::sched_getscheduler(0) == SCHED_OTHER ? 0 : 1);
                int status = 0;
                ::waitpid(child, &status, 0);
                child_policy = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? SCHED_OTHER : SCHED_FIFO;
            }
            return TickOutcome{};
        },
        {});
    CHECK(policy_during == SCHED_FIFO);
    CHECK(child_policy == SCHED_OTHER);
    CHECK(result.priority.state == SamplingPriorityState::realtime);
    CHECK(policy_of_this_thread() == SCHED_OTHER);
}

TEST_CASE("a real-time sampler that uses more than its share of a core goes back to the normal class") {
    int policy_at_end = -1;
    // It ends half-way through the second after the costly one, which it spends in
    // the normal class whatever share it then gets (a loaded host may give it less).
    auto result = run_sampling_schedule(
        {.rate_hz = 100, .duration = realtime_budget_window * 3 / 2},
        [&] {
            burn_cpu_for(8ms);  // 80% of each 10 ms period
            policy_at_end = policy_of_this_thread();
            return TickOutcome{};
        },
        {});
    CHECK(result.priority.state == SamplingPriorityState::lowered);
    CHECK(result.priority.why.find("of a core") != std::string::npos);
    CHECK(policy_at_end == SCHED_OTHER);
}

TEST_CASE("after a burst over its share, a sampler goes back to real-time once a second is within it") {
    const auto start = std::chrono::steady_clock::now();
    int policy_at_end = -1;
    auto result = run_sampling_schedule(
        {.rate_hz = 100, .duration = realtime_budget_window * 7 / 2},
        [&] {
            // The first second costly (as the first samples of a large program are), then light.
            burn_cpu_for(std::chrono::steady_clock::now() - start < realtime_budget_window ? 8ms : 1ms);
            policy_at_end = policy_of_this_thread();
            return TickOutcome{};
        },
        {});
    CHECK(result.priority.state == SamplingPriorityState::lowered);
    CHECK(result.priority.why.find("in 1 of 1 seconds") != std::string::npos);
    CHECK(policy_at_end == SCHED_FIFO);
    CHECK(policy_of_this_thread() == SCHED_OTHER);
}

TEST_CASE("a sampler within its share stays real-time") {
    auto result = run_sampling_schedule({.rate_hz = 100, .duration = realtime_budget_window * 5 / 2}, [] {
        burn_cpu_for(2ms);  // 20%
        return TickOutcome{};
    }, {});
    CHECK(result.priority.state == SamplingPriorityState::realtime);
}

TEST_CASE("no more sampling threads are real-time at once than there are slots") {
    const unsigned slots = realtime_sampler_slots();
    std::vector<std::unique_ptr<SamplingPriority>> held;
    std::vector<std::thread> threads;
    std::vector<SamplingPriorityState> states(slots + 1);
    std::atomic<unsigned> started{0};
    std::atomic<bool> release{false};
    for (unsigned i = 0; i < slots + 1; ++i)
        threads.emplace_back([&, i] {
            SamplingPriority priority(true);
            states[i] = priority.report().state;
            ++started;
            while (!release) std::this_thread::sleep_for(1ms);
        });
    while (started < slots + 1) std::this_thread::sleep_for(1ms);
    release = true;
    for (auto& t : threads) t.join();
    CHECK(std::count(states.begin(), states.end(), SamplingPriorityState::realtime) == slots);
    CHECK(std::count(states.begin(), states.end(), SamplingPriorityState::normal) == 1);
    // The slots are free again once those threads ended.
    SamplingPriority after(true);
    CHECK(after.report().state == SamplingPriorityState::realtime);
}

TEST_CASE("where the kernel refuses the real-time class, sampling goes on in the normal class and says why") {
    pid_t child = ::fork();
    if (child == 0) {
        // An unprivileged caller without RLIMIT_RTPRIO: the kernel says no.
        rlimit none{0, 0};
        ::setrlimit(RLIMIT_RTPRIO, &none);
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(2);
        int ticks = 0;
        auto result = run_sampling_schedule({.rate_hz = 100, .duration = 50ms}, [&] {
            ++ticks;
            return TickOutcome{};
        }, {});
        bool ok = result.priority.state == SamplingPriorityState::normal &&
                  result.priority.why.find("refused") != std::string::npos && ticks >= 4 &&
                  (::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) == SCHED_OTHER;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("blocking samples stay in the normal class: a real-time yield would starve the threads they stop") {
    CHECK(schedule_for({.rate_hz = 100}, {.pause_threads = true}).realtime_priority == false);
    CHECK(schedule_for({.rate_hz = 100}, {.pause_threads = false}).realtime_priority == true);
}

TEST_CASE("a schedule that does not ask for it stays in the normal class") {
    auto result = run_sampling_schedule({.rate_hz = 100, .duration = 30ms, .realtime_priority = false},
                                        [] { return TickOutcome{}; }, {});
    CHECK(result.priority.state == SamplingPriorityState::normal);
}
