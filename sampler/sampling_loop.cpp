#include "sampler/sampling_loop.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <fmt/format.h>

#include "sampler/tick_sleeper.hpp"

namespace pyprofd::sampler {
namespace {

using Clock = TickSleeper::Clock;

}  // namespace

double SamplingStats::behind_schedule_percent() const {
    if (samples_expected == 0) return 0;
    auto missed = samples_expected > samples_taken ? samples_expected - samples_taken : 0;
    return 100.0 * static_cast<double>(missed) / static_cast<double>(samples_expected);
}

const char* to_string(SamplingEnd end) {
    switch (end) {
        case SamplingEnd::duration_reached: return "completed";
        case SamplingEnd::stopped: return "stopped";
        case SamplingEnd::target_exited: return "target_exited";
        case SamplingEnd::target_replaced: return "target_replaced";
        case SamplingEnd::unresponsive: return "unresponsive";
    }
    return "stopped";
}

SamplingSchedule schedule_for(SamplingSchedule schedule, const SampleOptions& options) {
    // A blocking sample waits for the target's threads to stop, yielding the CPU
    // while it waits: a real-time thread's yield lets no normal task run, the
    // stopping threads included. And its cost is the stop, not the wake-up.
    if (options.pause_threads) schedule.realtime_priority = false;
    return schedule;
}

SamplingResult run_sampling_loop(PythonProcess& process, const SamplingSchedule& asked,
                                 const SampleOptions& options, const SamplingCallbacks& callbacks,
                                 std::stop_token stop) {
    const auto schedule = schedule_for(asked, options);
    std::uint64_t unresponsive_in_a_row = 0;
    auto tick = [&]() -> TickOutcome {
        auto sample = process.sample(options);
        unresponsive_in_a_row = !sample && sample.error().kind == ErrorKind::target_unresponsive ? unresponsive_in_a_row + 1 : 0;
        if (sample) {
            TickOutcome sampled;
            for (const auto& t : sample->threads) sampled.thread_errors += t.error.has_value();
            if (callbacks.on_sample) callbacks.on_sample(*sample);
            return sampled;
        }
        if (sample.error().kind == ErrorKind::no_such_process || process.exited())
            return {.kind = TickOutcome::Kind::ended, .end = SamplingEnd::target_exited};
        if (sample.error().kind == ErrorKind::program_replaced ||
            process.program_replaced())  // looked at only when a sample fails
            return {.kind = TickOutcome::Kind::ended, .end = SamplingEnd::target_replaced};
        if (unresponsive_in_a_row >= unresponsive_samples_limit)
            return {.kind = TickOutcome::Kind::ended,
                    .end = SamplingEnd::unresponsive,
                    .failure = fmt::format("{} samples in a row failed: {}", unresponsive_in_a_row, sample.error().message)};
        return {.kind = TickOutcome::Kind::failed};
    };
    return run_sampling_schedule(schedule, tick, callbacks.on_fell_behind, stop);
}

SamplingResult run_sampling_schedule(const SamplingSchedule& schedule, const std::function<TickOutcome()>& tick,
                                     const std::function<void(const SamplingStats&)>& on_fell_behind,
                                     std::stop_token stop) {
    // The kernel's default timer slack (50 us) would make 10 kHz periods late by half.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / schedule.rate_hz));
    const auto start = Clock::now();
    const auto end = schedule.duration ? start + *schedule.duration : Clock::time_point::max();

    SamplingResult result;
    SamplingPriority priority(schedule.realtime_priority);
    TickSleeper sleeper(stop);
    bool said_behind = false;
    constexpr std::uint64_t behind_check_after = 200;  // ticks
    std::uint64_t next_tick = 0;  // the tick whose deadline comes next
    for (;;) {
        auto deadline = start + period * next_tick;
        if (deadline >= end) {
            result.end = SamplingEnd::duration_reached;
            break;
        }
        if (!sleeper.sleep_until(deadline)) {
            result.end = SamplingEnd::stopped;
            break;
        }
        auto began = Clock::now();
        auto lag = std::chrono::duration_cast<std::chrono::nanoseconds>(began - deadline);
        auto outcome = tick();
        if (outcome.kind == TickOutcome::Kind::ended) {
            if (outcome.end == SamplingEnd::unresponsive) ++result.stats.failed_samples;
            result.end = outcome.end;
            result.failure = std::move(outcome.failure);
            break;
        }
        if (outcome.kind == TickOutcome::Kind::sampled) {
            ++result.stats.samples_taken;
            result.stats.thread_errors += outcome.thread_errors;
        } else {
            ++result.stats.failed_samples;
        }
        result.stats.max_lag = std::max(result.stats.max_lag, lag);
        result.stats.total_lag += lag;
        auto now = Clock::now();
        priority.after_tick(now);

        // The next tick: the last one whose time has come, taken at once if it came
        // less than a period ago (a sample that overran its period by a little would
        // otherwise lose the next tick whole: at 10 kHz, a 110 us sample took every
        // other tick); ticks before it are skipped, not bunched up.
        auto next = static_cast<std::uint64_t>((now - start) / period) + 1;  // ticks due by now
        // Falling behind is said once it is lasting, not for one slow sample (the
        // first samples read every code object and are slow by nature).
        auto missed = next - result.stats.samples_taken - result.stats.failed_samples;
        if (!said_behind && next >= behind_check_after && missed * 20 > next) {
            said_behind = true;
            result.stats.samples_expected = next;
            if (on_fell_behind) on_fell_behind(result.stats);
        }
        next_tick = std::max(next_tick + 1, next - 1);
    }
    result.priority = priority.report();
    auto finished = std::min(Clock::now(), end);
    result.stats.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(finished - start);
    // Ticks of the schedule that fell inside the run, the first at its very start.
    result.stats.samples_expected = static_cast<std::uint64_t>(result.stats.elapsed / period) + 1;
    if (result.end == SamplingEnd::duration_reached)
        result.stats.samples_expected = static_cast<std::uint64_t>((end - start + period - Clock::duration(1)) / period);
    return result;
}

}  // namespace pyprofd::sampler
