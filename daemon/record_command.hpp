#pragma once
// `pyprofd record`: sample a process (or a program it launches) at a rate for a
// duration or until Ctrl-C, and write the profile.
#include <sys/types.h>

#include <chrono>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/profile_limit_options.hpp"
#include "daemon/profile_output.hpp"
#include "daemon/sample_aggregator.hpp"

namespace pyprofd::daemon {

struct RecordOptions {
    std::optional<pid_t> pid;
    std::vector<std::string> command;  // launched and profiled when pid is not given
    double rate_hz = 100;
    std::optional<std::chrono::nanoseconds> duration;  // none: until Ctrl-C or the target exits
    std::string output;  // empty: a name made of the pid and the time
    std::optional<OutputFormat> format;
    AggregationOptions aggregation;
    bool blocking = false;
    render::ProfileLimits limits = default_profile_limits();  // --max-stacks, --max-frames, --max-label-mb
};

constexpr double max_rate_hz = 100'000;

// The arguments after "record"; the error says which argument is wrong and why.
std::expected<RecordOptions, std::string> parse_record_arguments(std::span<const std::string_view> args);

int run_record(const RecordOptions& options);

}  // namespace pyprofd::daemon
