#pragma once
// Writing a profile to a file in the format the user chose, without ever leaving
// a half-written file behind: a temporary file beside the target, fsync, rename.
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "render/profile.hpp"

namespace pyprofd::daemon {

enum class OutputFormat { folded };

std::optional<OutputFormat> output_format_named(std::string_view name);
// From the file name's ending (.folded, .txt); nullopt when it says nothing.
std::optional<OutputFormat> output_format_for_path(std::string_view path);
std::string_view file_extension(OutputFormat format);
std::string_view output_format_names();  // for messages: "folded"

// "-" writes to stdout.
std::expected<void, std::string> write_profile(const render::Profile& profile, OutputFormat format,
                                               const std::string& path);

}  // namespace pyprofd::daemon
