#pragma once
// pyprofd's command line: `dump`, `record`, `render` and `serve`, each with its
// own options and its own --help, read by one parser (CLI11). Usage errors name
// the option and what was wrong, and exit 2; a command that fails at its work
// exits 1.
#include <string>
#include <variant>
#include <vector>

#include "cli/dump_arguments.hpp"
#include "cli/record_arguments.hpp"
#include "cli/render_arguments.hpp"
#include "cli/serve_arguments.hpp"

namespace pyprofd::cli {

constexpr int exit_usage = 2;

// What to print instead of running a command: help, the version, or a usage
// error; to standard output when the status is 0 (and for `pyprofd` alone).
struct Printout {
    int exit_status = 0;
    std::string text;
    bool to_stderr = false;
};

using ParsedCommandLine = std::variant<Printout, DumpOptions, RecordOptions, RenderOptions, ServeOptions>;

// Reads the arguments (without the program's name).
ParsedCommandLine parse_command_line(const std::vector<std::string>& args);

// Reads the arguments and runs the command they name; returns the exit status.
int run_command_line(const std::vector<std::string>& args);

}  // namespace pyprofd::cli
