#pragma once
// Whether an OS thread is on a CPU (or runnable) or waiting, and how much it has
// run, from /proc.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <algorithm>
#include <span>
#include <string_view>
#include <unordered_map>

#include "sampler/stack_trace.hpp"

namespace pyprofd::sampler {

// How much a thread has run, from /proc/PID/task/TID/schedstat: its CPU time, its
// time waiting for a CPU and how many times it was put on one. The kernel adds to
// these only when the thread is put on or taken off a CPU, so two equal readings
// say it was not put on a CPU between them, if it was off one at the first.
struct RunCount {
    std::uint64_t cpu_ns = 0;
    std::uint64_t wait_ns = 0;
    std::uint64_t times_run = 0;
    bool operator==(const RunCount&) const = default;
};

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
    // nullopt where the thread is gone or the kernel keeps no schedstat.
    std::optional<RunCount> run_count(pid_t tid);
    // Closes the files of threads not in live (they exited).
    void keep_only(std::span<const pid_t> live);
    // Files held open for any one kind of reading.
    std::size_t open_files() const { return std::max(stat_fds_.size(), schedstat_fds_.size()); }

private:
    int open_file(pid_t tid, const char* file);
    // The thread's file, kept open (or -1); reopened where the one held has gone.
    template <class Parse>
    auto read_file(std::unordered_map<pid_t, int>& fds, pid_t tid, const char* file, Parse parse)
        -> decltype(parse(0));

    pid_t pid_;
    int task_dir_ = -1;  // /proc/PID/task, opened on first use
    std::unordered_map<pid_t, int> stat_fds_;
    std::unordered_map<pid_t, int> schedstat_fds_;
};

// The state letter of a /proc/PID/task/TID/stat line ('R', 'S', 'D', ...), or 0.
char parse_stat_state(std::string_view stat_line);
// The three numbers of a schedstat line, or nullopt.
std::optional<RunCount> parse_schedstat(std::string_view schedstat_line);

}  // namespace pyprofd::sampler
