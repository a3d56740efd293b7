#pragma once
// The command-line front end: `pyprofd dump`, and later `record` and `serve`.
#include <span>
#include <string_view>

namespace pyprofd::daemon {

// Runs the command in args (without the program name); returns the exit status.
int run_command_line(std::span<const std::string_view> args);

}  // namespace pyprofd::daemon
