#pragma once
// Where `record` and `render` write and in which format: the values of -o and -f,
// and the format an output's name implies when -f is not given.
#include <CLI/App.hpp>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/profile_output.hpp"

namespace pyprofd::cli {

// Declares -o/--output (read into output) and -f/--format (into format).
void add_output_options(CLI::App& command, std::string& output, std::optional<daemon::OutputFormat>& format,
                        const std::string& output_help);

// Declares -o/--output alone (read into output).
void add_output_path_option(CLI::App& command, std::string& output, const std::string& output_help);

// The value of a --format option, or an error naming the formats.
std::expected<daemon::OutputFormat, std::string> output_format_option(std::string_view value);
// The value of an --output option ("-": standard output), or an error.
std::expected<std::string, std::string> output_path_option(std::string_view value);
// The format chosen, else the one the output's name says, else svg for standard
// output (empty or "-"); an error when the name says nothing.
std::expected<daemon::OutputFormat, std::string> output_format_for(std::optional<daemon::OutputFormat> chosen,
                                                                   const std::string& output);

}  // namespace pyprofd::cli
