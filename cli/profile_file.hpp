#pragma once
// A profile written where the user pointed `record -o` or `render -o`: standard
// output for "-", else a file as output_file.hpp says (a regular file atomically,
// a device or FIFO in place).
#include <expected>
#include <string>

#include "cli/output_file.hpp"
#include "daemon/profile_output.hpp"
#include "render/profile.hpp"

namespace pyprofd::cli {

std::expected<void, std::string> write_profile(const render::Profile& profile, daemon::OutputFormat format,
                                               const std::string& path, const daemon::OutputDetails& details = {},
                                               const ReaderWait& wait = {});

}  // namespace pyprofd::cli
