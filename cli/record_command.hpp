#pragma once
// `pyprofd record`: sample a process (or a program it launches) at a rate for a
// duration or until Ctrl-C, and write the profile.
#include "cli/record_arguments.hpp"

namespace pyprofd::cli {

int run_record(const RecordOptions& options);

}  // namespace pyprofd::cli
