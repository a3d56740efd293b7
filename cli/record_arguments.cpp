#include "cli/record_arguments.hpp"

#include <cmath>
#include <fmt/format.h>

#include "cli/option_values.hpp"
#include "cli/output_options.hpp"

namespace pyprofd::cli {
namespace {

void add_target_options(CLI::App& record, RecordOptions& options) {
    add_value_option(
        record, "-p,--pid", "PID",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            auto n = parse_number(text);
            if (!n || *n < 1 || *n != std::floor(*n) || *n > 4194304)
                return std::unexpected(fmt::format("--pid takes a process id, not '{}'", text));
            options.pid = static_cast<pid_t>(*n);
            return {};
        },
        "the Python process to sample");
    record.add_option("PROGRAM", options.command, "after '--': the program to launch and sample, with its arguments")
        ->option_text("[ARGS...]");
}

void add_schedule_options(CLI::App& record, RecordOptions& options) {
    add_value_option(
        record, "-r,--rate", "HZ",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            auto n = parse_number(text);
            if (!n || *n < 1 || *n > max_rate_hz)
                return std::unexpected(
                    fmt::format("--rate takes samples per second from 1 to {}, not '{}'", max_rate_hz, text));
            options.rate_hz = *n;
            return {};
        },
        fmt::format("samples per second (default 100, at most {})", max_rate_hz));
    add_value_option(
        record, "-d,--duration", "S",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            auto n = parse_number(text);
            if (!n || *n <= 0 || *n > 366.0 * 24 * 3600)
                return std::unexpected(fmt::format("--duration takes seconds (more than 0), not '{}'", text));
            options.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(*n));
            return {};
        },
        "seconds to sample (default: until Ctrl-C or the target exits)");
}

void add_what_to_keep_options(CLI::App& record, RecordOptions& options) {
    auto& aggregation = options.aggregation;
    record.add_flag("--idle", aggregation.include_idle, "include idle threads (waiting or sleeping); left out by default");
    record.add_flag("--gil", aggregation.gil_only, "only the thread that holds the GIL");
    record.add_flag("--threads", aggregation.per_thread, "a root frame per thread");
    record.add_flag("--function", aggregation.by_function, "one frame per function (line numbers dropped)");
    auto* blocking = record.add_flag("--blocking", options.blocking, "pause the target's threads for each sample (exact stacks)");
    const std::string nonblocking_help = "read while the target runs (the default)";
    auto* nonblocking = record.add_flag("--nonblocking", nonblocking_help);
    blocking->excludes(nonblocking);
    record.add_flag("--subprocesses", options.subprocesses,
                    "sample the target's descendant Python processes too (a gunicorn or uWSGI master's workers, a "
                    "multiprocessing pool), also those started while recording, each under a root frame 'process "
                    "PID (command line)'; at most --max-processes at once, the rate is per process");
    add_value_option(
        record, "--max-processes", "N",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            auto n = whole_number_in("--max-processes", text, 4096);  // the daemon's range
            if (!n) return std::unexpected(n.error());
            options.max_processes = *n;
            return {};
        },
        fmt::format("with --subprocesses: processes followed at once, the target included (default {}, as the "
                    "daemon's limits.max_session_processes); more are counted and left alone",
                    options.max_processes));
}

}  // namespace

CLI::App& add_record_command(CLI::App& command_line, RecordOptions& options) {
    auto& record = *command_line.add_subcommand("record", "sample a process (or launch one) and write its profile");
    add_target_options(record, options);
    add_schedule_options(record, options);
    add_output_options(record, options.output, options.format,
                       "where to write the profile ('-': standard output; default pyprofd-PID-TIME.svg)");
    add_what_to_keep_options(record, options);
    add_profile_limit_options(record, options.limits);
    record.footer(
        "A program launched after '--' never outlives pyprofd: it is ended with its whole process group when "
        "recording ends (duration, Ctrl-C, SIGTERM) or pyprofd dies.");
    return record;
}

std::expected<void, std::string> finish_record_options(RecordOptions& options, bool after_double_dash) {
    if (!options.command.empty() && !after_double_dash)
        return std::unexpected(fmt::format("record: unknown argument '{}'", options.command.front()));
    if (after_double_dash && options.command.empty())
        return std::unexpected("'--' must be followed by the program to run");
    if (options.pid && !options.command.empty())
        return std::unexpected("give either --pid or a program after '--', not both");
    if (!options.pid && options.command.empty())
        return std::unexpected("record needs --pid PID or a program to launch after '--'");
    auto format = output_format_for(options.format, options.output);
    if (!format) return std::unexpected(format.error());
    options.format = *format;
    if (daemon::format_keeps_threads(*format)) options.aggregation.per_thread = true;
    return {};
}

}  // namespace pyprofd::cli
