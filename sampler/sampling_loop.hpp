#pragma once
// The timed sampling loop: samples a process at a fixed rate on a drift-free
// schedule (deadlines at start + n * period, never "sleep a period after each
// sample"), for a duration or until stopped, and says how well it kept up.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <stop_token>

#include "sampler/python_process.hpp"
#include "sampler/sampling_priority.hpp"

namespace pyprofd::sampler {

struct SamplingSchedule {
    double rate_hz = 100;
    std::optional<std::chrono::nanoseconds> duration;  // none: until stopped or the target exits
    // The sampling thread in the real-time class where allowed (sampling_priority.hpp).
    bool realtime_priority = true;
};

struct SamplingStats {
    std::uint64_t samples_taken = 0;
    std::uint64_t samples_expected = 0;  // ticks of the schedule that have passed
    std::uint64_t failed_samples = 0;    // samples where the process as a whole could not be read
    std::uint64_t thread_errors = 0;     // thread stacks that could not be read (dropped, counted)
    std::chrono::nanoseconds max_lag{0};    // how late a sample started, at worst
    std::chrono::nanoseconds total_lag{0};  // summed over all samples
    std::chrono::nanoseconds elapsed{0};

    // Share of expected samples not taken on time, in percent.
    double behind_schedule_percent() const;
};

enum class SamplingEnd {
    duration_reached,
    stopped,        // stop was requested
    target_exited,  // the process ended: a normal end, with the samples so far
    target_replaced,  // it exec'd another program: no Python to read any more
    unresponsive,     // blocking mode: its threads would not stop, sample after sample
};

// Blocking samples that fail in a row, their threads not stopping, before the loop
// gives up on the target (failure says why).
constexpr std::uint64_t unresponsive_samples_limit = 20;

struct SamplingResult {
    SamplingEnd end = SamplingEnd::stopped;
    SamplingStats stats;
    std::string failure;  // for unresponsive: the last sample's error
    SamplingPriorityReport priority;
};

struct SamplingCallbacks {
    std::function<void(const StackSample&)> on_sample;
    // Called once, when the loop has missed more than 5% of the ticks so far.
    std::function<void(const SamplingStats&)> on_fell_behind;
};

// The schedule as sampling with these options runs it: blocking samples stay in the
// normal scheduling class.
SamplingSchedule schedule_for(SamplingSchedule schedule, const SampleOptions& options);

SamplingResult run_sampling_loop(PythonProcess& process, const SamplingSchedule& schedule,
                                 const SampleOptions& options, const SamplingCallbacks& callbacks,
                                 std::stop_token stop = {});

// What one tick of a schedule did, for run_sampling_schedule: it took its sample
// (and how many of its threads' stacks could not be read), failed to, or found that
// sampling must end (then `end` says how, and `failure` why where it matters).
struct TickOutcome {
    enum class Kind { sampled, failed, ended } kind = Kind::sampled;
    std::uint64_t thread_errors = 0;
    SamplingEnd end = SamplingEnd::stopped;
    std::string failure;
};

// The schedule alone: calls tick at every deadline and keeps the figures, for
// targets that are more than one process (a process and its descendants). One
// tick is one sample in the figures, however many processes it reads.
SamplingResult run_sampling_schedule(const SamplingSchedule& schedule, const std::function<TickOutcome()>& tick,
                                     const std::function<void(const SamplingStats&)>& on_fell_behind,
                                     std::stop_token stop = {});

const char* to_string(SamplingEnd end);

}  // namespace pyprofd::sampler
