// The sampling loop at 100, 1,000 and 10,000 Hz against targets 50 frames deep
// (one thread, and four), on Python 3.11 and 3.13: what the sampler costs per
// sample (its own CPU time, remote reads) and whether it keeps its schedule
// (achieved rate, samples on schedule, lag). Samples are aggregated into a
// profile as `record` and the daemon do. Beside each run, the same loop with
// nothing to do at each tick (same schedule, priority and sleeper): its CPU per
// tick is the wake-up's cost on this machine, which no sample can go below, and
// the sample's cost above it is what the sampler's own work adds. On a VM the
// wake-up alone has cost 2.5 to 27 us at 10 kHz, so a sample's whole cost says
// as much about the machine as about the sampler. Prints figures; asserts nothing.
//
//   bench_sampling_rate [seconds per run, default 10]
#define DOCTEST_CONFIG_DISABLE
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "daemon/sample_aggregator.hpp"
#include "render/profile.hpp"
#include "bench/thread_cpu_time.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sampling_loop.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using bench::thread_cpu_seconds;

namespace {

// CPU per tick of the sampling loop with nothing to do at its ticks.
double empty_tick_cpu_us(double rate, double seconds) {
    auto cpu0 = thread_cpu_seconds();
    auto result = sampler::run_sampling_schedule(
        {.rate_hz = rate, .duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds))},
        [] { return sampler::TickOutcome{}; }, {});
    auto cpu = thread_cpu_seconds() - cpu0;
    return result.stats.samples_taken ? cpu * 1e6 / static_cast<double>(result.stats.samples_taken) : 0.0;
}

void run(const tests::Interpreter& py, int threads, double rate, double seconds) {
    tests::Target target(py, {tests::target_path("deep_threads.py"), std::to_string(threads), "50"});
    if (!target.ready) return;
    auto process = sampler::PythonProcess::attach(target.pid());
    if (!process) {
        std::printf("%-14s attach failed: %s\n", py.label.c_str(), process.error().message.c_str());
        return;
    }
    (void)process->sample();  // warm the code cache, as a running profile has it
    // Measured right before the run, with the target running, as the run's own floor.
    const double empty_tick = empty_tick_cpu_us(rate, std::min(seconds, 3.0));
    render::Profile profile;
    daemon::SampleAggregator aggregator(profile, {.include_idle = true});
    auto reads0 = process->memory_reads();
    auto cpu0 = thread_cpu_seconds();
    auto result = sampler::run_sampling_loop(
        *process, {.rate_hz = rate, .duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds))},
        {}, {.on_sample = [&](const sampler::StackSample& s) { aggregator.add(s); }});
    auto cpu = thread_cpu_seconds() - cpu0;
    const auto& st = result.stats;
    double elapsed = std::chrono::duration<double>(st.elapsed).count();
    double taken = static_cast<double>(st.samples_taken);
    std::printf("%-14s %7d %8.0f %9.0f %8.2f %9.1f %7.1f %7.1f %9.2f %8.1f %9.1f %8.1f %8.1f\n", py.label.c_str(), threads,
                rate, taken / elapsed, 100.0 - st.behind_schedule_percent(), cpu * 1e6 / taken, empty_tick,
                cpu * 1e6 / taken - empty_tick,
                static_cast<double>(process->memory_reads() - reads0) / taken, 100.0 * cpu / elapsed,
                std::chrono::duration<double, std::micro>(st.total_lag).count() / taken,
                std::chrono::duration<double, std::micro>(st.max_lag).count() / 1000.0,
                static_cast<double>(profile.total_samples()) / taken);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
    std::printf("sampling loop, targets 50 frames deep, %.0f s per run\n", seconds);
    std::printf("%-14s %7s %8s %9s %8s %9s %7s %7s %9s %8s %9s %8s %8s\n", "interpreter", "threads", "rate Hz", "achieved",
                "on sch %", "cpu us/s", "wake us", "above", "reads/s", "core %", "lag us", "max ms", "stk/smp");
    for (const auto& py : tests::interpreters()) {
        bool wanted = (py.major == 3 && py.minor == 13) || (py.major == 3 && py.minor == 11 && py.label.starts_with("pyenv"));
        if (!wanted) continue;
        for (int threads : {1, 4})
            for (double rate : {100.0, 1000.0, 10000.0}) run(py, threads, rate, seconds);
    }
    std::printf("\ncolumns: achieved = samples taken per second; on sch = samples taken of those the schedule\n"
                "expected; cpu us/s and reads/s = the sampler's thread CPU time and process_vm_readv calls per\n"
                "sample (plus one /proc pread per thread and one timer wait, not counted here); wake us = CPU per\n"
                "tick of the same loop doing nothing at its ticks, measured just before (the machine's floor);\n"
                "above = cpu us/s less wake us, the sampler's own part; core %% = share\n"
                "of one core; lag = mean and max delay of a sample's start after its deadline; stk/smp = stacks\n"
                "added to the profile per sample.\n");
}
