#pragma once
// The options of `pyprofd dump`: which process, and text or JSON.
#include <sys/types.h>

#include <CLI/App.hpp>
#include <expected>
#include <optional>
#include <string>

namespace pyprofd::cli {

struct DumpOptions {
    std::optional<pid_t> pid;
    bool json = false;
};

// Declares `dump` and its options on the command line, read into options.
CLI::App& add_dump_command(CLI::App& command_line, DumpOptions& options);

// What the options say together, once read: the error says what is missing.
std::expected<void, std::string> finish_dump_options(const DumpOptions& options);

}  // namespace pyprofd::cli
