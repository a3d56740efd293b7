#pragma once
// `pyprofd dump`: attach, take one sample of every thread, print it.
#include <sys/types.h>

namespace pyprofd::daemon {

struct DumpOptions {
    pid_t pid = 0;
    bool json = false;
};

int run_dump(const DumpOptions& options);

}  // namespace pyprofd::daemon
