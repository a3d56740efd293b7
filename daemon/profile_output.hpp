#pragma once
// Writing a profile in the format the user chose, to standard output or where
// -o points (output_file.hpp: a file atomically, a device or FIFO in place).
#include <cstdint>
#include <expected>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/output_file.hpp"
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

// The value of a --format option, or an error naming the formats.
std::expected<OutputFormat, std::string> output_format_option(std::string_view value);
// The value of an --output option ("-": standard output), or an error.
std::expected<std::string, std::string> output_path_option(std::string_view value);
// The format chosen, else the one the output's name says, else svg for standard
// output (empty or "-"); an error when the name says nothing.
std::expected<OutputFormat, std::string> output_format_for(std::optional<OutputFormat> chosen, const std::string& output);

// "-" writes to stdout; other names as write_output_file() does.
std::expected<void, std::string> write_profile(const render::Profile& profile, OutputFormat format,
                                               const std::string& path, const OutputDetails& details = {},
                                               const ReaderWait& wait = {});

}  // namespace pyprofd::daemon
