#pragma once
// Reading /proc/PID/* files, with errors that say what to do.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

// The whole content of /proc/PID/<name>.
Result<std::string> read_proc_file(pid_t pid, std::string_view name);

// Reads a whole local file (any size, /proc files report size 0).
Result<std::string> read_whole_file(const std::string& path);

// The command line, arguments split at NULs.
Result<std::vector<std::string>> read_cmdline(pid_t pid);

// The thread ids in /proc/PID/task.
Result<std::vector<pid_t>> list_threads(pid_t pid);

// The first number of a field of /proc/PID/status ("Uid", "TracerPid"), or
// nothing when the process is gone or the field is missing.
std::optional<std::uint64_t> read_status_number(pid_t pid, std::string_view field);
// The same, of a status text already read.
std::optional<std::uint64_t> status_number(std::string_view status, std::string_view field);

// What follows the command name of a /proc/PID/stat line ("TID (comm) S ..."): from
// its third field, the state, on; empty if the line has no command name. The name
// may hold spaces and parentheses, and nothing after it holds a ')', so it ends at
// the last ')'. Found with memrchr: the line is ~300 bytes, and string_view::rfind,
// a byte at a time, was 6% of a 10 kHz sampler's own instructions (callgrind).
std::string_view stat_after_command(std::string_view stat_line);

// The path /proc/PID/exe points to (may end in " (deleted)").
Result<std::string> read_exe_link(pid_t pid);


}  // namespace pyprofd::sampler
