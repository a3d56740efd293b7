#include "cli/record_command.hpp"

#include <unistd.h>

#include <atomic>
#include <ctime>
#include <fmt/format.h>
#include <iostream>
#include <thread>

#include "cli/profile_file.hpp"
#include "cli/progress_display.hpp"
#include "daemon/descriptor_limit.hpp"
#include "daemon/process_sources.hpp"
#include "daemon/sampling_run.hpp"
#include "daemon/termination_signals.hpp"
#include "sampler/descriptor_budget.hpp"
#include "sampler/sched_in_watch.hpp"
#include "sampler/python_process.hpp"
#include "sampler/thread_pause.hpp"

namespace pyprofd::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string default_output_name(pid_t pid, daemon::OutputFormat format) {
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    return fmt::format("pyprofd-{}-{}{}", pid, stamp, daemon::file_extension(format));
}

std::string describe_target(const sampler::PythonProcess& process) {
    auto command = daemon::command_text(process.command_line());
    if (command.size() > 100) command = command.substr(0, 97) + "...";
    return fmt::format("process {} ({}), Python {}", process.pid(), command, process.version().to_string());
}

// An output that cannot be written (a directory, a missing directory) is said
// before a recording of many seconds, not after; false once said.
bool output_writable(const std::string& path) {
    if (path == "-") return true;
    auto writable = check_output_file(path);
    if (!writable) std::cerr << "pyprofd: " << writable.error() << "\n";
    return writable.has_value();
}

// The process to sample, or the program launched and its Python found.
std::expected<daemon::SamplingRun, std::string> start_target(const RecordOptions& options, std::stop_token stop) {
    if (!options.command.empty()) {
        daemon::become_child_subreaper();
        auto run = daemon::SamplingRun::launch(options.command);
        if (!run) return std::unexpected(run.error());
        if (auto attached = run->wait_for_python(stop); !attached) return std::unexpected(attached.error());
        return run;
    }
    auto attached = sampler::PythonProcess::attach(*options.pid);
    if (!attached) return std::unexpected(attached.error().message);
    if (options.blocking)
        if (auto free = sampler::ThreadPause::check_not_traced(*options.pid); !free)
            return std::unexpected(free.error().message);
    return daemon::SamplingRun(std::move(*attached));
}

void announce(const RecordOptions& options, const sampler::PythonProcess& process) {
    std::cerr << fmt::format("pyprofd: sampling {} at {} Hz {}, {}{}\n", describe_target(process), options.rate_hz,
                             options.duration ? fmt::format("for {} s", std::chrono::duration<double>(*options.duration).count())
                                              : std::string("until Ctrl-C"),
                             options.blocking ? "blocking (threads paused for each sample)" : "non-blocking",
                             options.duration ? "; Ctrl-C to stop early" : "");
}

// Samples into profile with a progress display on stderr, until the run ends.
daemon::SamplingRunEnd sample_with_progress(daemon::SamplingRun& run, const RecordOptions& options,
                                            render::Profile& profile, std::stop_token stop) {
    daemon::SampleAggregator aggregator(profile, options.aggregation);
    std::atomic<std::uint64_t> samples{0}, thread_errors{0};
    ProgressDisplay progress(stderr, options.duration);
    auto started = Clock::now();
    std::jthread ticker([&](std::stop_token ticker_stop) {
        while (!ticker_stop.stop_requested()) {
            progress.update(Clock::now() - started, samples.load(), thread_errors.load());
            std::this_thread::sleep_for(100ms);
        }
    });
    if (options.subprocesses)
        // As the user who runs record: the kernel decides which descendants it may read.
        run.follow_descendants(&sampler::PythonProcess::attach, nullptr,
                               {.max_processes = options.max_processes, .blocking = options.blocking});
    daemon::SamplingRunCallbacks callbacks{
        .on_sample =
            [&](const sampler::StackSample& sample, std::uint64_t errors, const daemon::ProcessTree::Source* process) {
                aggregator.add(sample, process ? std::string_view(process->root_label) : std::string_view());
                thread_errors += errors;
                if (!process || process->index == 0) ++samples;  // a tick of a tree is one sample
            },
        .on_fell_behind =
            [&](const sampler::SamplingStats&) {
                progress.message(fmt::format("pyprofd: cannot keep up with {} Hz on this target; sampling goes on as "
                                             "fast as it can (lower --rate for an even schedule)",
                                             options.rate_hz));
            },
    };
    auto end = run.sample({.rate_hz = options.rate_hz, .duration = options.duration},
                          {.pause_threads = options.blocking}, callbacks, stop);
    ticker.request_stop();
    ticker.join();
    progress.finish();
    return end;
}

// Why sampling ended, where that is worth a line: the target went, or a signal came.
void tell_end(const daemon::SamplingRunEnd& end, bool launched, pid_t pid, int signal) {
    auto seconds = std::chrono::duration<double>(end.loop.stats.elapsed).count();
    if (launched) {
        if (end.program_exited)
            std::cerr << fmt::format("pyprofd: the program {} after {:.1f} s; the profile holds the samples up to then\n",
                                     end.program_exit, seconds);
    } else if (end.loop.end == sampler::SamplingEnd::target_replaced) {
        std::cerr << fmt::format("pyprofd: process {} replaced its program (exec) after {:.1f} s; the profile holds "
                                 "the samples up to then\n",
                                 pid, seconds);
    } else if (end.loop.end == sampler::SamplingEnd::target_exited) {
        std::cerr << fmt::format("pyprofd: process {} exited after {:.1f} s; the profile holds the samples up to then\n",
                                 pid, seconds);
    } else if (end.loop.end == sampler::SamplingEnd::unresponsive) {
        std::cerr << fmt::format("pyprofd: gave up blocking sampling after {:.1f} s: {}; sample it without --blocking\n",
                                 seconds, end.loop.failure);
    }
    if (end.loop.end == sampler::SamplingEnd::stopped && signal != 0)
        std::cerr << fmt::format("pyprofd: stopped by SIG{} after {:.1f} s\n", ::sigabbrev_np(signal), seconds);
}

// With --subprocesses: which processes were sampled, and which were not.
void tell_processes(const daemon::ProcessTree& tree) {
    std::string sampled;
    for (const auto& p : tree.processes()) {
        if (p.state == daemon::SampledProcessState::failed) {
            std::cerr << fmt::format("pyprofd: process {} could not be sampled: {}\n", p.pid, p.error);
            continue;
        }
        sampled += fmt::format("{}{} ({} samples{})", sampled.empty() ? "" : ", ", p.pid, p.samples,
                               p.state == daemon::SampledProcessState::exited ? ", exited" : "");
    }
    std::cerr << fmt::format("pyprofd: sampled {} processes: {}\n", tree.processes().size() - tree.skipped().failed,
                             sampled);
    const auto& skipped = tree.skipped();
    if (skipped.not_permitted)
        std::cerr << fmt::format("pyprofd: {} descendant processes could not be read (not permitted): skipped\n",
                                 skipped.not_permitted);
    if (skipped.out_of_descriptors)
        std::cerr << fmt::format("pyprofd: {} descendant processes were not followed: pyprofd's descriptors for "
                                 "them were taken (raise the limit: ulimit -n)\n",
                                 skipped.out_of_descriptors);
    if (skipped.over_limit)
        std::cerr << fmt::format("pyprofd: {} descendant processes were left alone: {} were followed already "
                                 "(--max-processes)\n",
                                 skipped.over_limit, tree.followed());
}

// What the profile's formats say beside the stacks: the title, and a subtitle of
// how it was sampled.
daemon::OutputDetails details_of(const RecordOptions& options, const sampler::PythonProcess& process,
                                 const daemon::ProcessTree* tree, const sampler::SamplingStats& stats,
                                 std::int64_t started_unix_ns) {
    daemon::OutputDetails details{.rate_hz = options.rate_hz,
                                  .wall_clock = options.aggregation.include_idle,
                                  .start_unix_ns = started_unix_ns,
                                  .duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(stats.elapsed).count()};
    details.sources = tree ? daemon::profile_sources(daemon::process_sources(process), tree->processes())
                           : render::ProfileSources{daemon::process_sources(process)};
    auto& graph = details.flame_graph;
    graph.title = daemon::graph_title(daemon::command_text(process.command_line()));
    auto descendants = tree ? fmt::format(" and its descendants ({} processes)",
                                          tree->processes().size() - tree->skipped().failed)
                            : std::string();
    graph.subtitle = fmt::format("process {}{}, Python {}, {} Hz{}, {:.1f} s, {} samples, {} errors{}", process.pid(),
                                 descendants, process.version().to_string(), options.rate_hz,
                                 options.blocking ? " blocking" : "", std::chrono::duration<double>(stats.elapsed).count(),
                                 stats.samples_taken,
                                 stats.failed_samples + stats.thread_errors + (tree ? tree->skipped().failed : 0),
                                 options.aggregation.include_idle ? ", idle threads included" : "");
    return details;
}

}  // namespace

int run_record(const RecordOptions& options) {
    // First, before any thread starts: Ctrl-C and SIGTERM become a stop request.
    daemon::TerminationSignals signals;
    // A target of thousands of threads needs a file each to be sampled cheaply. A
    // quarter of the descriptors is for those kept open, a quarter for the processes
    // followed; the rest for the output and a launched program's pipes. (The program
    // gets the limit record started with.)
    const auto descriptors = daemon::raise_descriptor_limit();
    sampler::thread_file_budget().set_cap(descriptors / 4);
    sampler::process_descriptor_budget().set_cap(descriptors / 4);
    (void)sampler::sched_in_watches_work();  // found out now, not by the sampling thread
    if (!options.output.empty() && !output_writable(options.output)) return 1;
    auto run = start_target(options, signals.stop_token());
    if (!run) {
        std::cerr << "pyprofd: " << run.error() << "\n";
        return 1;  // a launched program has been ended
    }
    const auto& process = run->process();
    auto output = options.output.empty() ? default_output_name(process.pid(), *options.format) : options.output;
    if (options.output.empty() && !output_writable(output)) return 1;
    announce(options, process);

    render::Profile profile(options.limits);
    const std::int64_t started_unix_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto end = sample_with_progress(*run, options, profile, signals.stop_token());
    tell_end(end, run->program() != nullptr, process.pid(), signals.received());
    if (const auto* tree = run->tree()) tell_processes(*tree);
    const auto& stats = end.loop.stats;
    if (profile.total_samples() == 0 && stats.samples_taken > 0 && !options.aggregation.include_idle)
        std::cerr << "pyprofd: no thread was running in any sample (all idle); --idle includes waiting threads\n";
    if (auto note = truncation_note(profile); !note.empty()) std::cerr << note << "\n";

    // Ctrl-C stays blocked: one more (or SIGTERM) ends a wait for a FIFO's reader.
    ReaderWait wait{.waiting =
                        [&] {
                            std::cerr << fmt::format("pyprofd: waiting for a reader of the FIFO {} (Ctrl-C gives up)\n",
                                                     output);
                        },
                    .give_up = [&, signals_before = signals.count()] { return signals.count() > signals_before; }};
    auto written = write_profile(profile, *options.format, output, details_of(options, process, run->tree(), stats, started_unix_ns), wait);
    if (!written) {
        std::cerr << "pyprofd: " << written.error() << "\n";
        return 1;
    }
    std::cerr << fmt::format("Wrote {}: {} samples, {} errors, behind schedule {:.1f}%\n",
                             output == "-" ? "standard output" : output, stats.samples_taken,
                             stats.failed_samples + stats.thread_errors, stats.behind_schedule_percent());
    // Behind schedule in the normal class: say why it was not real-time, the usual cause.
    if (stats.behind_schedule_percent() >= 1 && end.loop.priority.state != sampler::SamplingPriorityState::realtime)
        std::cerr << fmt::format("pyprofd: the sampling thread ran in the normal scheduling class ({}): {}\n",
                                 sampler::to_string(end.loop.priority.state), end.loop.priority.why);
    return 0;
}

}  // namespace pyprofd::cli
