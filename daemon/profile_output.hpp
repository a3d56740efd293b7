#pragma once
// What the daemon and the command line both say of a profile's output: the
// formats (render's table, under the names the daemon has always used), and the
// titles graphs get. Writing to files is the command line's (cli/profile_file).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "render/output_format.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

// The formats and their facts are render's table (render/output_format.hpp).
using render::OutputDetails;
using render::OutputFormat;
using render::file_extension;
using render::format_keeps_threads;
using render::output_format_for_path;
using render::output_format_name;
using render::output_format_named;
using render::output_format_names;

// A command line as one string, words separated by spaces.
std::string command_text(const std::vector<std::string>& words);
// The title graphs get: "pyprofd: " and what was profiled, cut to 120 characters.
std::string graph_title(std::string_view target);

}  // namespace pyprofd::daemon
