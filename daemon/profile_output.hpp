#pragma once
// Writing a profile to a file in the format the user chose, without ever leaving
// a half-written file behind: a temporary file beside the target, fsync, rename.
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "render/flame_graph.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

enum class OutputFormat { svg, folded };

std::optional<OutputFormat> output_format_named(std::string_view name);
// From the file name's ending (.svg, .folded, .txt); nullopt when it says nothing.
std::optional<OutputFormat> output_format_for_path(std::string_view path);
std::string_view file_extension(OutputFormat format);
std::string_view output_format_names();  // for messages: "svg, folded"

// The value of a --format option, or an error naming the formats.
std::expected<OutputFormat, std::string> output_format_option(std::string_view value);
// The value of an --output option ("-": standard output), or an error.
std::expected<std::string, std::string> output_path_option(std::string_view value);
// The format chosen, else the one the output's name says, else svg for standard
// output (empty or "-"); an error when the name says nothing.
std::expected<OutputFormat, std::string> output_format_for(std::optional<OutputFormat> chosen, const std::string& output);

// "-" writes to stdout. The flame graph options matter to svg only.
std::expected<void, std::string> write_profile(const render::Profile& profile, OutputFormat format,
                                               const std::string& path,
                                               const render::FlameGraphOptions& flame_graph = {});

}  // namespace pyprofd::daemon
