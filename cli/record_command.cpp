#include "cli/record_command.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <iostream>
#include <thread>

#include "daemon/launched_program.hpp"
#include "cli/profile_file.hpp"
#include "cli/progress_display.hpp"
#include "daemon/termination_signals.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sampling_loop.hpp"
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

}  // namespace

int run_record(const RecordOptions& options) {
    // First, before any thread starts: Ctrl-C and SIGTERM become a stop request.
    daemon::TerminationSignals signals;
    std::optional<daemon::LaunchedProgram> program;
    std::optional<sampler::PythonProcess> process;

    // An output that cannot be written (a directory, a missing directory) is said
    // now, not after a recording of many seconds.
    auto check_output = [](const std::string& path) {
        if (path == "-") return true;
        auto writable = check_output_file(path);
        if (!writable) std::cerr << "pyprofd: " << writable.error() << "\n";
        return writable.has_value();
    };
    if (!options.output.empty() && !check_output(options.output)) return 1;

    if (!options.command.empty()) {
        daemon::become_child_subreaper();
        auto launched = daemon::LaunchedProgram::launch(options.command);
        if (!launched) {
            std::cerr << "pyprofd: " << launched.error() << "\n";
            return 1;
        }
        program.emplace(std::move(*launched));
        auto attached = daemon::attach_when_python_runs(*program, signals.stop_token());
        if (!attached) {
            std::cerr << "pyprofd: " << attached.error() << "\n";
            return 1;  // the program is ended by its destructor
        }
        process.emplace(std::move(*attached));
    } else {
        auto attached = sampler::PythonProcess::attach(*options.pid);
        if (!attached) {
            std::cerr << "pyprofd: " << attached.error().message << "\n";
            return 1;
        }
        process.emplace(std::move(*attached));
        if (options.blocking)
            if (auto free = sampler::ThreadPause::check_not_traced(*options.pid); !free) {
                std::cerr << "pyprofd: " << free.error().message << "\n";
                return 1;
            }
    }

    auto output = options.output.empty() ? default_output_name(process->pid(), *options.format) : options.output;
    if (options.output.empty() && !check_output(output)) return 1;
    std::cerr << fmt::format("pyprofd: sampling {} at {} Hz {}, {}{}\n", describe_target(*process), options.rate_hz,
                             options.duration ? fmt::format("for {} s", std::chrono::duration<double>(*options.duration).count())
                                              : std::string("until Ctrl-C"),
                             options.blocking ? "blocking (threads paused for each sample)" : "non-blocking",
                             options.duration ? "; Ctrl-C to stop early" : "");

    render::Profile profile(options.limits);
    daemon::SampleAggregator aggregator(profile, options.aggregation);
    std::atomic<std::uint64_t> samples{0}, thread_errors{0};
    ProgressDisplay progress(stderr, options.duration);
    auto started = Clock::now();
    const std::int64_t started_unix_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::jthread ticker([&](std::stop_token stop) {
        while (!stop.stop_requested()) {
            progress.update(Clock::now() - started, samples.load(), thread_errors.load());
            std::this_thread::sleep_for(100ms);
        }
    });

    sampler::SamplingCallbacks callbacks{
        .on_sample =
            [&](const sampler::StackSample& sample) {
                aggregator.add(sample);
                std::uint64_t errors = 0;
                for (const auto& t : sample.threads) errors += t.error.has_value();
                thread_errors += errors;
                ++samples;
            },
        .on_fell_behind =
            [&](const sampler::SamplingStats&) {
                progress.message(fmt::format("pyprofd: cannot keep up with {} Hz on this target; sampling goes on as "
                                             "fast as it can (lower --rate for an even schedule)",
                                             options.rate_hz));
            },
    };
    auto result = sampler::run_sampling_loop(*process, {.rate_hz = options.rate_hz, .duration = options.duration},
                                             {.pause_threads = options.blocking}, callbacks, signals.stop_token());
    ticker.request_stop();
    ticker.join();
    progress.finish();

    auto seconds = std::chrono::duration<double>(result.stats.elapsed).count();
    if (program) {
        bool exited_itself = program->exited();
        program->terminate();
        if (exited_itself)
            std::cerr << fmt::format("pyprofd: the program {} after {:.1f} s; the profile holds the samples up to then\n",
                                     program->exit_description(), seconds);
    } else if (result.end == sampler::SamplingEnd::target_replaced) {
        std::cerr << fmt::format("pyprofd: process {} replaced its program (exec) after {:.1f} s; the profile holds "
                                 "the samples up to then\n",
                                 process->pid(), seconds);
    } else if (result.end == sampler::SamplingEnd::target_exited) {
        std::cerr << fmt::format("pyprofd: process {} exited after {:.1f} s; the profile holds the samples up to then\n",
                                 process->pid(), seconds);
    } else if (result.end == sampler::SamplingEnd::unresponsive) {
        std::cerr << fmt::format("pyprofd: gave up blocking sampling after {:.1f} s: {}; sample it without --blocking\n",
                                 seconds, result.failure);
    }
    if (result.end == sampler::SamplingEnd::stopped && signals.received() != 0)
        std::cerr << fmt::format("pyprofd: stopped by SIG{} after {:.1f} s\n", ::sigabbrev_np(signals.received()),
                                 seconds);
    if (profile.total_samples() == 0 && result.stats.samples_taken > 0 && !options.aggregation.include_idle)
        std::cerr << "pyprofd: no thread was running in any sample (all idle); --idle includes waiting threads\n";

    if (auto note = truncation_note(profile); !note.empty()) std::cerr << note << "\n";

    daemon::OutputDetails details{.rate_hz = options.rate_hz,
                          .wall_clock = options.aggregation.include_idle,
                          .start_unix_ns = started_unix_ns,
                          .duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(result.stats.elapsed).count()};
    auto& graph = details.flame_graph;
    graph.title = daemon::graph_title(daemon::command_text(process->command_line()));
    graph.subtitle = fmt::format("process {}, Python {}, {} Hz{}, {:.1f} s, {} samples, {} errors{}", process->pid(),
                                 process->version().to_string(), options.rate_hz,
                                 options.blocking ? " blocking" : "", seconds, result.stats.samples_taken,
                                 result.stats.failed_samples + result.stats.thread_errors,
                                 options.aggregation.include_idle ? ", idle threads included" : "");
    // Ctrl-C stays blocked: one more (or SIGTERM) ends a wait for a FIFO's reader.
    ReaderWait wait{.waiting =
                        [&] {
                            std::cerr << fmt::format("pyprofd: waiting for a reader of the FIFO {} (Ctrl-C gives up)\n",
                                                     output);
                        },
                    .give_up = [&, signals_before = signals.count()] { return signals.count() > signals_before; }};
    auto written = write_profile(profile, *options.format, output, details, wait);
    if (!written) {
        std::cerr << "pyprofd: " << written.error() << "\n";
        return 1;
    }
    auto errors = result.stats.failed_samples + result.stats.thread_errors;
    std::cerr << fmt::format("Wrote {}: {} samples, {} errors, behind schedule {:.1f}%\n",
                             output == "-" ? "standard output" : output, result.stats.samples_taken, errors,
                             result.stats.behind_schedule_percent());
    return 0;
}

}  // namespace pyprofd::cli
