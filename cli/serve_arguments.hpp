#pragma once
// The options of `pyprofd serve`: the configuration file, and what on the command
// line overrides it (where to listen, where the state lives).
#include <CLI/App.hpp>
#include <optional>
#include <string>
#include <vector>

namespace pyprofd::cli {

struct ServeOptions {
    std::optional<std::string> config_file;
    std::vector<std::string> listen;  // replaces the configuration's listen addresses when given
    std::optional<std::string> state_dir;
};

// Declares `serve` and its options on the command line, read into options.
CLI::App& add_serve_command(CLI::App& command_line, ServeOptions& options);

}  // namespace pyprofd::cli
