// The sampling loop's wait for its next tick: on time, one wake-up per tick at any
// rate, and ended at once by a stop request.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "sampler/sampling_loop.hpp"
#include "sampler/tick_sleeper.hpp"

using namespace pyprofd;
using namespace std::chrono_literals;
using Clock = sampler::TickSleeper::Clock;

namespace {

// This thread's voluntary context switches so far: one per wait that slept.
long waits_slept() {
    rusage usage{};
    ::getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_nvcsw;
}

}  // namespace

TEST_CASE("a tick's wait ends at its deadline, not before") {
    std::stop_source never;
    sampler::TickSleeper sleeper(never.get_token());
    auto deadline = Clock::now() + 30ms;
    CHECK(sleeper.sleep_until(deadline));
    CHECK(Clock::now() >= deadline);
    CHECK(sleeper.sleep_until(Clock::now() - 1s));  // passed already: at once
}

TEST_CASE("a slow schedule's ticks wake the sampling thread once each") {
    // At 50 Hz a period is 20 ms. Waiting in slices (5 ms each, to look at the stop
    // token between them) woke the thread four times a tick.
    const long before = waits_slept();
    std::uint64_t ticks = 0;
    auto result = sampler::run_sampling_schedule(
        {.rate_hz = 50, .duration = 500ms, .realtime_priority = false},
        [&] {
            ++ticks;
            return sampler::TickOutcome{};
        },
        {}, {});
    const long woken = waits_slept() - before;
    INFO("ticks " << ticks << ", waits that slept " << woken);
    CHECK(result.end == sampler::SamplingEnd::duration_reached);
    CHECK(ticks >= 20);
    CHECK(woken <= static_cast<long>(ticks) + 5);
}

TEST_CASE("a stop request ends a tick's wait at once, however long the period") {
    std::stop_source stop;
    sampler::TickSleeper sleeper(stop.get_token());
    std::jthread stopper([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    const auto began = Clock::now();
    CHECK_FALSE(sleeper.sleep_until(began + 60s));
    CHECK(Clock::now() - began < 10s);  // loose: a busy machine may be slow to run it
    CHECK_FALSE(sleeper.sleep_until(Clock::now() + 60s));  // stopped stays stopped
}

TEST_CASE("a stop requested before the sleeper exists ends its first wait at once") {
    std::stop_source stop;
    stop.request_stop();
    sampler::TickSleeper sleeper(stop.get_token());
    const auto began = Clock::now();
    CHECK_FALSE(sleeper.sleep_until(began + 60s));
    CHECK(Clock::now() - began < 10s);
}
