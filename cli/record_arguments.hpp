#pragma once
// The options of `pyprofd record`: what to sample (a process, or a program to
// launch after '--'), how often and how long, what the profile keeps, and where it
// goes in which format.
#include <sys/types.h>

#include <CLI/App.hpp>
#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "cli/profile_limit_options.hpp"
#include "config/daemon_config.hpp"
#include "daemon/profile_output.hpp"
#include "daemon/sample_aggregator.hpp"

namespace pyprofd::cli {

struct RecordOptions {
    std::optional<pid_t> pid;
    std::vector<std::string> command;  // launched and profiled when pid is not given
    double rate_hz = 100;
    std::optional<std::chrono::nanoseconds> duration;  // none: until Ctrl-C or the target exits
    std::string output;  // empty: a name made of the pid and the time
    std::optional<daemon::OutputFormat> format;
    daemon::AggregationOptions aggregation;
    bool blocking = false;
    // The target's descendant Python processes too, each under a root frame
    // "process PID (command line)"; at most max_processes at once.
    bool subprocesses = false;
    std::size_t max_processes = config::Limits{}.max_session_processes;
    render::ProfileLimits limits = default_profile_limits();  // --max-stacks, --max-frames, --max-label-mb
};

constexpr double max_rate_hz = 100'000;

// Declares `record` and its options on the command line, read into options.
CLI::App& add_record_command(CLI::App& command_line, RecordOptions& options);

// What the options say together, once read: the target (a process or a program
// after '--', which after_double_dash tells: CLI11 puts words before it there too)
// and the format. The error says what is missing or at odds.
std::expected<void, std::string> finish_record_options(RecordOptions& options, bool after_double_dash);

}  // namespace pyprofd::cli
