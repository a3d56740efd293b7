#pragma once
// Whether an OS thread is on a CPU (or runnable) or waiting, from /proc.
#include <sys/types.h>

#include "sampler/stack_trace.hpp"

namespace pyprofd::sampler {

ThreadActivity read_thread_activity(pid_t pid, pid_t tid);

// The state letter of a /proc/PID/task/TID/stat line ('R', 'S', 'D', ...), or 0.
char parse_stat_state(std::string_view stat_line);

}  // namespace pyprofd::sampler
