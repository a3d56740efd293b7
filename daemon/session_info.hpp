#pragma once
// What a sampling session is asked to do (SessionSpec) and what is known of it
// (SessionInfo): the daemon's record of a session, the API's JSON of it, and the
// metadata file that lets it survive a restart.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/sample_aggregator.hpp"
#include "daemon/sampled_process.hpp"

namespace pyprofd::daemon {

struct SessionSpec {
    std::optional<pid_t> pid;          // a running process, or
    std::vector<std::string> command;  // a program launched for the session (it never outlives it)
    // For a command: what its environment gets besides PATH, LANG, HOME, USER, LOGNAME
    // (values are not saved: they may be secrets), and its working directory (empty: /).
    std::map<std::string, std::string> env;
    std::string cwd;
    double rate_hz = 100;
    std::optional<double> duration_s = 10;  // none: until stopped
    std::string name;
    AggregationOptions aggregation;  // per_thread here means: the graphs show a root per thread
    bool blocking = false;
    // The target's descendant Python processes too (a worker tree), each under a
    // root frame of its own; a running process's only.
    bool subprocesses = false;
};

enum class SessionState { running, completed, stopped, target_exited, failed, interrupted };

const char* to_string(SessionState state);
std::optional<SessionState> session_state_named(std::string_view name);
inline bool is_finished(SessionState s) { return s != SessionState::running; }

using WallClock = std::chrono::system_clock;

struct SessionInfo {
    std::string id;
    // Who started it (Caller::owner(), and in words): only they and admins see it.
    // Sessions saved before owners were kept belong to root.
    std::string owner = "uid:0";
    std::string owner_name = "root";
    SessionSpec spec;
    SessionState state = SessionState::running;
    std::string failure;  // why, for failed
    // The target as attached: pid, command line, Python version (empty until known),
    // and where its Python files were named from, as it saw them at attach: its working
    // directory and its standard library's directory (sampler/source_directories.hpp;
    // empty where not found, and in sessions saved before they were kept).
    pid_t target_pid = 0;
    std::vector<std::string> target_command_line;
    std::string python_version;
    std::string working_directory;
    std::string standard_library;
    WallClock::time_point created;
    std::optional<WallClock::time_point> ended;
    // Sampling so far.
    std::uint64_t samples = 0;
    std::uint64_t samples_expected = 0;
    std::uint64_t failed_samples = 0;
    std::uint64_t thread_errors = 0;
    double max_lag_ms = 0;
    double mean_lag_ms = 0;
    // The sampling thread's scheduling class once it ended: "realtime", "normal" or
    // "lowered" (sampler/sampling_priority.hpp), and why where it was not real-time;
    // empty while running and for sessions saved before it was kept.
    std::string sampling_priority;
    std::string sampling_priority_why;
    double elapsed_s = 0;
    std::map<pid_t, SeenThread> threads;
    // With subprocesses: the processes of the tree it sampled or tried to, the
    // target first, and those it did not sample.
    std::vector<SampledProcess> processes;
    SkippedProcesses skipped_processes;
    // Samples of stacks that the profile's limits kept out, counted under one
    // [truncated] frame, and the limit reached first (its configuration key).
    std::uint64_t truncated_samples = 0;
    std::string truncated_by;
    // Why its results could not be saved last time (disk full, read-only): they are
    // served from memory meanwhile and saved again later. Not itself saved.
    std::string save_error;
};

}  // namespace pyprofd::daemon
