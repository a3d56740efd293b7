#pragma once
// What one profile may hold, for the command line (`record` and `render`): the
// daemon's limits.max_profile_* with their defaults, as --max-stacks, --max-frames
// and --max-label-mb. A hostile target can make fresh stacks of fresh names without
// end, and `sudo pyprofd record` must not hand it the machine's memory either.
#include <expected>
#include <string>

#include "daemon/command_arguments.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

// The daemon's defaults (config::Limits).
render::ProfileLimits default_profile_limits();

// Reads the reader's current option into limits if it is one of these: nullopt when
// it is not, else what reading it said.
std::optional<std::expected<void, std::string>> read_profile_limit_option(ArgumentReader& reader,
                                                                          render::ProfileLimits& limits);

// One line for stderr about samples counted under [truncated], naming the option
// that raises the limit reached; empty when nothing was truncated.
std::string truncation_note(const render::Profile& profile);

}  // namespace pyprofd::daemon
