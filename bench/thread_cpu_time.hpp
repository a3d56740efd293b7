#pragma once
// The calling thread's own CPU time: what a benchmark charges to the sampler.
#include <time.h>

namespace pyprofd::bench {

inline double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace pyprofd::bench
