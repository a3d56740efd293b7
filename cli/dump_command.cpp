#include "cli/dump_command.hpp"

#include <iostream>

#include "daemon/stack_dump.hpp"
#include "sampler/python_process.hpp"

namespace pyprofd::cli {

int run_dump(const DumpOptions& options) {
    auto process = sampler::PythonProcess::attach(*options.pid);
    if (!process) {
        std::cerr << "pyprofd: " << process.error().message << "\n";
        return 1;
    }
    auto sample = process->sample();
    if (!sample) {
        std::cerr << "pyprofd: cannot read the stacks of process " << *options.pid << ": "
                  << sample.error().message << "\n";
        return 1;
    }
    if (options.json)
        std::cout << daemon::format_dump_json(*process, *sample).dump(2) << "\n";
    else
        std::cout << daemon::format_dump_text(*process, *sample);
    return 0;
}

}  // namespace pyprofd::cli
