#pragma once
// Whether an OS thread is on a CPU (or runnable) or waiting, from /proc.
#include <sys/types.h>

#include <span>
#include <string_view>
#include <unordered_map>

#include "sampler/stack_trace.hpp"

namespace pyprofd::sampler {

// Reads threads' activity sample after sample: keeps each thread's stat file open
// so a reading is one pread, not open + read + close. A thread's file is opened
// relative to the process's task directory, held open too: a service that starts
// a thread per request meets new threads every sample, and a path lookup from
// /proc down costs more than the read itself.
class ThreadActivityReader {
public:
    explicit ThreadActivityReader(pid_t pid) : pid_(pid) {}
    ThreadActivityReader(const ThreadActivityReader&) = delete;
    ThreadActivityReader& operator=(const ThreadActivityReader&) = delete;
    ~ThreadActivityReader();

    ThreadActivity read(pid_t tid);
    // Closes the files of threads not in live (they exited).
    void keep_only(std::span<const pid_t> live);
    std::size_t open_files() const { return stat_fds_.size(); }

private:
    int open_stat(pid_t tid);

    pid_t pid_;
    int task_dir_ = -1;  // /proc/PID/task, opened on first use
    std::unordered_map<pid_t, int> stat_fds_;
};

// The state letter of a /proc/PID/task/TID/stat line ('R', 'S', 'D', ...), or 0.
char parse_stat_state(std::string_view stat_line);

}  // namespace pyprofd::sampler
