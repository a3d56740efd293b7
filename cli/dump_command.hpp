#pragma once
// `pyprofd dump`: attach, take one sample of every thread, print it.
#include "cli/dump_arguments.hpp"

namespace pyprofd::cli {

int run_dump(const DumpOptions& options);

}  // namespace pyprofd::cli
