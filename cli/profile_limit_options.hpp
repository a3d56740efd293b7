#pragma once
// What one profile may hold, for the command line (`record` and `render`): the
// daemon's limits.max_profile_* with their defaults, as --max-stacks, --max-frames
// and --max-label-mb. A hostile target can make fresh stacks of fresh names without
// end, and `sudo pyprofd record` must not hand it the machine's memory either.
#include <CLI/App.hpp>
#include <string>

#include "render/profile.hpp"

namespace pyprofd::cli {

// The daemon's defaults (config::Limits).
render::ProfileLimits default_profile_limits();

// Declares --max-stacks, --max-frames and --max-label-mb, read into limits.
void add_profile_limit_options(CLI::App& command, render::ProfileLimits& limits);

// One line for stderr about samples counted under [truncated], naming the option
// that raises the limit reached; empty when nothing was truncated.
std::string truncation_note(const render::Profile& profile);

}  // namespace pyprofd::cli
