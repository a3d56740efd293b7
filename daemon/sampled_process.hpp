#pragma once
// A process of a worker tree as a session that follows one (`subprocesses`) saw it:
// the root target and each descendant it sampled or tried to, for the session's
// record and its JSON.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyprofd::daemon {

enum class SampledProcessState {
    sampling,  // followed now
    sampled,   // followed until sampling ended
    exited,    // it ended (or replaced its program); its samples are kept
    failed,    // it could not be attached or read (error says why): counted in the session's errors
};
const char* to_string(SampledProcessState state);
std::optional<SampledProcessState> sampled_process_state_named(std::string_view name);

struct SampledProcess {
    pid_t pid = 0;
    pid_t parent = 0;  // 0 for the root target
    std::vector<std::string> command_line;
    std::string python_version;
    // As SessionInfo's of its target: where its Python files were named from at attach.
    std::string working_directory;
    std::string standard_library;
    std::uint64_t samples = 0;
    SampledProcessState state = SampledProcessState::sampling;
    std::string error;  // for failed
};

// What a session that follows a tree did not sample, and why.
struct SkippedProcesses {
    std::uint64_t failed = 0;         // descendants that could not be attached or read (each listed too, up to a bound)
    std::uint64_t not_permitted = 0;  // the caller may not profile them: never sampled
    std::uint64_t over_limit = 0;     // found while limits.max_session_processes were followed already
    // Found while the daemon's descriptors for attached processes were all taken
    // (sampler::process_descriptor_budget()): tried again at each look.
    std::uint64_t out_of_descriptors = 0;
    bool operator==(const SkippedProcesses&) const = default;
};

}  // namespace pyprofd::daemon
