// What one sample of every thread costs the sampler, per interpreter: CPU time,
// wall time and remote reads (process_vm_readv calls) per sample, against a target
// spinning 50 frames deep. Prints figures; passes or fails on nothing.
// The tests' helpers start the targets; their assertions are not wanted here.
#define DOCTEST_CONFIG_DISABLE
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>
#include <thread>
#include <unistd.h>

#include "bench/thread_cpu_time.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sched_in_watch.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using bench::thread_cpu_seconds;

namespace {

struct Figures {
    double cpu_us = 0, wall_us = 0, reads = 0, pages_asked = 0, kib = 0, threads = 0, errors = 0;
    std::size_t frames = 0, pages = 0;
    sampler::SampleCost cost;  // over the measured samples
};

sampler::SampleCost operator-(const sampler::SampleCost& a, const sampler::SampleCost& b) {
    return {a.samples - b.samples,           a.first_read_ns - b.first_read_ns, a.thread_list_ns - b.thread_list_ns,
            a.proc_ns - b.proc_ns,           a.threads_ns - b.threads_ns,       a.stacks_ns - b.stacks_ns,
            a.new_pages_ns - b.new_pages_ns,
            a.new_page_reads - b.new_page_reads, a.states_passed_by - b.states_passed_by,
            a.thread_list_rereads - b.thread_list_rereads,
            a.stacks_read - b.stacks_read, a.stacks_reused - b.stacks_reused,
            a.reuses_watched - b.reuses_watched,
            a.reused_checked - b.reused_checked, a.reused_stale - b.reused_stale,
            a.code_header_checks - b.code_header_checks, a.code_epoch_checks - b.code_epoch_checks,
            a.code_stale - b.code_stale};
}

// Where one sample's wall time goes, in microseconds.
void print_split_header() {
    std::printf("  split per sample (us): %10s %10s %10s %10s %10s %12s %14s %14s %12s %12s %12s %14s\n", "first read",
                "thread list", "/proc", "threads", "stacks", "(new pages)", "stacks read", "stacks reused", "(watched)",
                "code read", "code vouched", "states passed");
}

void print_split(const char* label, const sampler::SampleCost& c) {
    const double n = c.samples ? static_cast<double>(c.samples) : 1;
    auto per_sample = [n](std::uint64_t total) { return static_cast<double>(total) / n; };
    std::printf("  %-22s %10.1f %10.1f %10.1f %10.1f %10.1f %12.1f %14.1f %14.1f %12.1f %12.1f %12.1f %14.1f\n", label,
                per_sample(c.first_read_ns) / 1e3, per_sample(c.thread_list_ns) / 1e3, per_sample(c.proc_ns) / 1e3,
                per_sample(c.threads_ns) / 1e3, per_sample(c.stacks_ns) / 1e3, per_sample(c.new_pages_ns) / 1e3,
                per_sample(c.stacks_read), per_sample(c.stacks_reused), per_sample(c.reuses_watched),
                per_sample(c.code_header_checks), per_sample(c.code_epoch_checks), per_sample(c.states_passed_by));
}

Figures measure(sampler::PythonProcess& process, sampler::SampleOptions options, int samples,
                std::chrono::microseconds pace = {}) {
    options.time_phases = true;  // for the split; its clock readings (~1 us a sample) are in the total
    // Warm the caches, as a running profile has them, and let parked threads earn
    // their watches (SampleOptions::watch_parked_after).
    for (std::uint32_t i = 0; i < options.watch_parked_after + 4; ++i) (void)process.sample(options);
    auto cost0 = process.cost();
    auto reads0 = process.memory_reads();
    auto bytes0 = process.memory_bytes_read();
    auto asked0 = process.memory_pages_asked();
    auto cpu0 = thread_cpu_seconds();
    auto wall0 = std::chrono::steady_clock::now();
    Figures f;
    double paused = 0;
    for (int i = 0; i < samples; ++i) {
        if (pace.count() > 0) {
            auto before = std::chrono::steady_clock::now();
            std::this_thread::sleep_for(pace);
            paused += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before).count();
        }
        auto s = process.sample(options);
        if (s)
            for (const auto& t : s->threads) {
                f.threads += 1;
                f.errors += t.error.has_value();
            }
        if (s && i == 0)
            for (const auto& t : s->threads) f.frames += t.frames.size();
    }
    f.cpu_us = (thread_cpu_seconds() - cpu0) * 1e6 / samples;
    f.wall_us =
        (std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0).count() - paused) / samples;
    f.reads = static_cast<double>(process.memory_reads() - reads0) / samples;
    f.kib = static_cast<double>(process.memory_bytes_read() - bytes0) / 1024 / samples;
    f.pages_asked = static_cast<double>(process.memory_pages_asked() - asked0) / samples;
    f.threads /= samples;
    f.errors /= samples;
    f.cost = process.cost() - cost0;
    f.pages = process.pages_per_sample();
    return f;
}

// A thread-per-request web service (the Flask app of the end-to-end scenario on
// werkzeug's threaded server) under load: threads start and end between samples,
// so each sample meets threads, stacks and pages the last one did not. Samples are
// paced as a session takes them, so that the churn between them is real: at 1 kHz
// under wrk -c8 (several requests at once), and as in the seed's run, at 10 kHz
// under ab -c1.
void measure_thread_per_request_server(const char* label, std::vector<std::string> load_argv, int samples,
                                       std::chrono::microseconds pace) {
    const char* python = "/usr/bin/python3.11";
    const std::string check = "command -v " + load_argv.front() +
                              " >/dev/null && /usr/bin/python3.11 -c 'import flask' 2>/dev/null";
    if (::access(python, X_OK) != 0 || std::system(check.c_str()) != 0) {
        std::printf("thread-per-request server: skipped (needs /usr/bin/python3.11 with flask, and %s)\n",
                    load_argv.front().c_str());
        return;
    }
    const int port = 18000 + static_cast<int>(::getpid() % 1000);
    tests::Target app({.label = "debian 3.11", .executable = python, .major = 3, .minor = 11},
                      {tests::target_path("flask_app.py"), std::to_string(port)});
    if (!app.ready) return;
    load_argv.push_back("http://127.0.0.1:" + std::to_string(port) + "/name/world.json");
    tests::ChildProcess load({.argv = load_argv});
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto process = sampler::PythonProcess::attach(app.pid());
    if (!process) {
        std::printf("thread-per-request server: attach failed: %s\n", process.error().message.c_str());
        return;
    }
    auto full = measure(*process, {}, samples, pace);
    auto bare = measure(*process, {.thread_names = true, .thread_activity = false}, samples, pace);
    std::printf("\nthread-per-request server (Flask under %s), %d samples paced at %.0f Hz\n", label, samples,
                1e6 / static_cast<double>(pace.count()));
    std::printf("%-16s %12s %12s %12s %10s %10s %10s %16s %12s %12s\n", "interpreter", "cpu us/smp", "wall us/smp",
                "reads/smp", "pages/smp", "copied/smp", "KiB/smp", "cpu us (no /proc)", "threads/smp", "errors/smp");
    std::printf("%-16s %12.1f %12.1f %12.1f %10zu %10.1f %10.1f %16.1f %12.2f %12.3f\n", "debian 3.11", full.cpu_us,
                full.wall_us, full.reads, full.pages, full.pages_asked, full.kib, bare.cpu_us, full.threads,
                full.errors);
    print_split_header();
    print_split("debian 3.11", full.cost);
}


// A service's many threads: 156 parked on an Event, 4 spinning, the main thread
// waiting, paced at 1 kHz. What a sample costs here should follow the 4 that run,
// not the 161 that exist.
void measure_many_threads(const std::string& only) {
    const int samples = 3000;
    std::printf("\nmany threads (156 parked, 4 running, main waiting), %d samples paced at 1 kHz\n", samples);
    std::printf("%-16s %12s %12s %12s %10s %10s %10s %16s %12s %12s\n", "interpreter", "cpu us/smp", "wall us/smp",
                "reads/smp", "pages/smp", "copied/smp", "KiB/smp", "cpu us (no /proc)", "threads/smp", "errors/smp");
    std::vector<std::pair<std::string, sampler::SampleCost>> splits;
    for (const auto& py : tests::interpreters()) {
        if (!only.empty() && py.label.find(only) == std::string::npos) continue;
        if (only.empty() && py.label != "debian 3.11" && py.label != "pyenv 2.7.18" && py.label != "pyenv 3.12.1" &&
            py.label != "debian-sid 3.15")
            continue;  // four layouts are enough to see the shape
        tests::Target target(py, {tests::target_path("waking_threads.py"), "0", "156", "4"});
        if (!target.ready) continue;
        auto process = sampler::PythonProcess::attach(target.pid());
        if (!process) {
            std::printf("%-16s attach failed: %s\n", py.label.c_str(), process.error().message.c_str());
            continue;
        }
        auto full = measure(*process, {}, samples, std::chrono::microseconds(1000));
        auto bare = measure(*process, {.thread_names = true, .thread_activity = false}, samples / 3,
                            std::chrono::microseconds(1000));
        std::printf("%-16s %12.1f %12.1f %12.1f %10zu %10.1f %10.1f %16.1f %12.2f %12.3f\n", py.label.c_str(), full.cpu_us,
                    full.wall_us, full.reads, full.pages, full.pages_asked, full.kib, bare.cpu_us, full.threads, full.errors);
        splits.emplace_back(py.label, full.cost);
        // At 100 Hz (record's default rate) the 4 busy threads all run between samples,
        // and the sampler's CPU idles for 10 ms.
        auto slow = measure(*process, {}, samples / 10, std::chrono::microseconds(10000));
        std::printf("%-16s %12.1f %12.1f %12.1f %10zu %10.1f %10.1f %16s %12.2f %12.3f\n", (py.label + " 100Hz").c_str(),
                    slow.cpu_us, slow.wall_us, slow.reads, slow.pages, slow.pages_asked, slow.kib, "", slow.threads, slow.errors);
        splits.emplace_back(py.label + " 100Hz", slow.cost);
    }
    print_split_header();
    for (const auto& [label, cost] : splits) print_split(label.c_str(), cost);
}

// What a short recording pays once: attaching, then the first samples of the
// 160-thread target at 100 Hz, each on its own (the first reads every thread's
// state, stack, code and name; parked threads earn their watches later), against
// the samples after them. At 100 Hz for 2 s this is spread over only 200 samples.
void measure_first_samples(const std::string& only) {
    std::printf("\nfirst samples after attach, many threads (156 parked, 4 running), paced at 100 Hz; CPU us each\n");
    for (const auto& py : tests::interpreters()) {
        if (!only.empty() && py.label.find(only) == std::string::npos) continue;
        if (only.empty() && py.label != "debian 3.11") continue;
        tests::Target target(py, {tests::target_path("waking_threads.py"), "0", "156", "4"});
        if (!target.ready) continue;
        (void)sampler::sched_in_watches_work();  // asked before sampling, as record and the daemon do
        auto cpu0 = thread_cpu_seconds();
        auto process = sampler::PythonProcess::attach(target.pid());
        const double attach_us = (thread_cpu_seconds() - cpu0) * 1e6;
        if (!process) {
            std::printf("%-16s attach failed: %s\n", py.label.c_str(), process.error().message.c_str());
            continue;
        }
        const sampler::SampleOptions options{};
        const int first = static_cast<int>(options.watch_parked_after) + 8, later = 200;
        const int short_recording = 200;  // samples of 2 s at 100 Hz, over which the first ones' cost spreads
        std::vector<double> each;
        double later_us = 0, first_total = 0;
        for (int i = 0; i < first + later; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            auto before = thread_cpu_seconds();
            (void)process->sample(options);
            const double us = (thread_cpu_seconds() - before) * 1e6;
            if (i < first) {
                each.push_back(us);
                first_total += us;
            } else {
                later_us += us;
            }
        }
        later_us /= later;
        std::printf("%-16s attach %.0f us; samples 1-%d:", py.label.c_str(), attach_us, first);
        for (double us : each) std::printf(" %.0f", us);
        const double above = first_total - later_us * first;
        std::printf("\n%-16s after them %.0f us a sample; the first %d cost %.0f us above that (%.0f us a sample over %d)\n",
                    "", later_us, first, above, above / short_recording, short_recording);
    }
}

}  // namespace

// bench_sample_cost [part of an interpreter label, e.g. 3.11]
// bench_sample_cost first [part of a label]: only the first samples after attach
int main(int argc, char** argv) {
    const int samples = 5000;
    const std::string only = argc > 1 ? argv[1] : "";
    if (only == "first") {  // only the first samples after attach
        measure_first_samples(argc > 2 ? argv[2] : "");
        return 0;
    }
    std::printf("sample cost, target 50 frames deep, %d samples each (after one warm-up sample)\n", samples);
    std::printf("%-16s %7s %12s %12s %12s %10s %10s %10s %16s\n", "interpreter", "frames", "cpu us/smp", "wall us/smp",
                "reads/smp", "pages/smp", "copied/smp", "KiB/smp", "cpu us (no /proc)");
    std::vector<std::pair<std::string, sampler::SampleCost>> splits;
    for (const auto& py : tests::interpreters()) {
        if (!only.empty() && py.label.find(only) == std::string::npos) continue;
        tests::Target target(py, {tests::target_path("deep.py"), "50"});
        if (!target.ready) continue;
        auto process = sampler::PythonProcess::attach(target.pid());
        if (!process) {
            std::printf("%-16s attach failed: %s\n", py.label.c_str(), process.error().message.c_str());
            continue;
        }
        auto full = measure(*process, {}, samples);
        auto bare = measure(*process, {.thread_names = true, .thread_activity = false}, samples);
        std::printf("%-16s %7zu %12.1f %12.1f %12.1f %10zu %10.1f %10.1f %16.1f\n", py.label.c_str(), full.frames,
                    full.cpu_us, full.wall_us, full.reads, full.pages, full.pages_asked, full.kib, bare.cpu_us);
        splits.emplace_back(py.label, full.cost);
    }
    print_split_header();
    for (const auto& [label, cost] : splits) print_split(label.c_str(), cost);
    measure_many_threads(only);
    measure_first_samples(only);
    measure_thread_per_request_server("wrk -c8", {"wrk", "-t1", "-c8", "-d30s"}, 3000, std::chrono::microseconds(1000));
    measure_thread_per_request_server("ab -c1", {"ab", "-q", "-t", "30", "-n", "100000000", "-c", "1"}, 20000,
                                      std::chrono::microseconds(100));
    std::printf("(a paced sample also pays for waking up with cold caches: the 50-deep target above\n"
                " costs about 15 us more per sample when paced at 1 kHz)\n");
    return 0;
}
