// What one sample of every thread costs the sampler, per interpreter: CPU time,
// wall time and remote reads (process_vm_readv calls) per sample, against a target
// spinning 50 frames deep. Prints figures; passes or fails on nothing.
// The tests' helpers start the targets; their assertions are not wanted here.
#define DOCTEST_CONFIG_DISABLE
#include <chrono>
#include <cstdio>

#include "bench/thread_cpu_time.hpp"
#include "sampler/python_process.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using bench::thread_cpu_seconds;

namespace {

struct Figures {
    double cpu_us = 0, wall_us = 0, reads = 0;
    std::size_t frames = 0;
};

Figures measure(sampler::PythonProcess& process, const sampler::SampleOptions& options, int samples) {
    (void)process.sample(options);  // warm the caches, as a running profile has them
    auto reads0 = process.memory_reads();
    auto cpu0 = thread_cpu_seconds();
    auto wall0 = std::chrono::steady_clock::now();
    Figures f;
    for (int i = 0; i < samples; ++i) {
        auto s = process.sample(options);
        if (s && i == 0)
            for (const auto& t : s->threads) f.frames += t.frames.size();
    }
    f.cpu_us = (thread_cpu_seconds() - cpu0) * 1e6 / samples;
    f.wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0).count() / samples;
    f.reads = static_cast<double>(process.memory_reads() - reads0) / samples;
    return f;
}

}  // namespace

// bench_sample_cost [part of an interpreter label, e.g. 3.11]
int main(int argc, char** argv) {
    const int samples = 5000;
    std::printf("sample cost, target 50 frames deep, %d samples each (after one warm-up sample)\n", samples);
    std::printf("%-16s %7s %12s %12s %12s %10s %16s\n", "interpreter", "frames", "cpu us/smp", "wall us/smp",
                "reads/smp", "pages/smp", "cpu us (no /proc)");
    for (const auto& py : tests::interpreters()) {
        if (argc > 1 && py.label.find(argv[1]) == std::string::npos) continue;
        tests::Target target(py, {tests::target_path("deep.py"), "50"});
        if (!target.ready) continue;
        auto process = sampler::PythonProcess::attach(target.pid());
        if (!process) {
            std::printf("%-16s attach failed: %s\n", py.label.c_str(), process.error().message.c_str());
            continue;
        }
        auto full = measure(*process, {}, samples);
        auto bare = measure(*process, {.thread_names = true, .thread_activity = false}, samples);
        std::printf("%-16s %7zu %12.1f %12.1f %12.1f %10zu %16.1f\n", py.label.c_str(), full.frames, full.cpu_us,
                    full.wall_us, full.reads, process->pages_per_sample(), bare.cpu_us);
    }
    return 0;
}
