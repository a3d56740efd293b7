#pragma once
// Whether an OS thread is on a CPU (or runnable) or waiting, and how much it has
// run, from /proc.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "sampler/descriptor_budget.hpp"
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

// Where a thread's state is read from. Its wait channel (/proc/.../wchan) names a
// function only once the thread is off its run queue: asleep and switched out. The
// state letter of its stat line says 'S' as soon as the thread marks itself asleep,
// while it may still be on its CPU and, woken before it switches out, run on with
// no sched-in and no change to its run count: a stack reused on that count could be
// stale until the kernel's next tick. The wait channel is also the cheaper read
// (1.0-1.9 us against 2.8-5.6 us for the stat line on the development VM, which
// the kernel assembles from the thread's memory map, signals and times). Some kernels name no functions
// (built without symbols): wait_channels_name_sleepers() finds out once.
enum class ThreadStateSource {
    best,          // the wait channel where this kernel names sleepers' functions, else the stat line
    stat_line,     // the stat line's state letter: 'R' runs or is runnable, anything else waits
    wait_channel,  // the wait channel: "0" runs, is runnable or is still on a run queue
};

// Reads threads' activity sample after sample: keeps each thread's files open so
// a reading is one pread, not open + read + close. A thread's file is opened
// relative to the process's task directory, held open too: a service that starts
// a thread per request meets new threads every sample, and a path lookup from
// /proc down costs more than the read itself. The files kept are counted against
// the process's budget (descriptor_budget.hpp) and at most
// max_open_thread_stat_files for one target; past either, a file is opened and
// closed for each reading.
class ThreadActivityReader {
public:
    explicit ThreadActivityReader(pid_t pid, DescriptorBudget& budget = thread_file_budget(),
                                  ThreadStateSource source = ThreadStateSource::best);
    ThreadActivityReader(const ThreadActivityReader&) = delete;
    ThreadActivityReader& operator=(const ThreadActivityReader&) = delete;
    ~ThreadActivityReader();

    // Running (or ready to, or still on a run queue), idle (waiting), or unknown.
    ThreadActivity read(pid_t tid);
    // nullopt where the thread is gone or the kernel keeps no schedstat.
    std::optional<RunCount> run_count(pid_t tid);
    // The thread is off its CPU's run queue: asleep and taken off, not merely marked
    // asleep (a thread marks itself so before it switches out, and a wake-up in
    // between leaves it running). The kernel names where a thread waits (wchan) only
    // then. Read from the thread's file where its wait channel is the state kept open;
    // else the file is opened for this one reading (once per thread that gets a
    // sched-in watch).
    bool off_run_queue(pid_t tid);
    // The source read() uses (best resolved).
    ThreadStateSource source() const { return source_; }
    // Closes the files of threads not in live (they exited).
    void keep_only(std::span<const pid_t> live);
    // Closes the thread's files: another way of telling whether it ran vouches for
    // it now (a sched-in watch), and its budget is worth more to other threads. Its
    // next reading opens one again.
    void release(pid_t tid);
    // Descriptors held, and how many threads are known (with files, or released).
    std::size_t open_files() const { return open_files_; }
    std::size_t threads_with_files() const { return files_.size(); }

private:
    // A thread needs one kind of file at a time: a parked thread's stack is reused on
    // its run count alone, and a running thread's count is not read. So a thread's
    // file of the other kind is closed when it changes kind, and a target of N parked
    // threads costs the daemon N descriptors, not 2N. But a thread that wakes now and
    // then (a server's accept loop, woken by each request) changes kind every few
    // samples, and reopening cost a path lookup each time: a thread keeps both from
    // its fourth change on. (A parked thread changes three times: its state is read
    // in its first two samples, before its run count can vouch for its stack, and its
    // count from the second.)
    static constexpr int changes_before_both_kept = 3;
    enum class Kind { state, schedstat };  // state: the stat line or the wait channel (source_)
    struct ThreadFiles {
        int state = -1;
        int schedstat = -1;
        int changes = 0;  // of kind, counted up to changes_before_both_kept
        int& of(Kind kind) { return kind == Kind::state ? state : schedstat; }
    };
    int open_file(pid_t tid, Kind kind);
    int open_task_file(pid_t tid, const char* file);  // under /proc/PID/task, relative to task_dir_
    // The thread's file of that kind, kept open; opened where none is held, and
    // afresh where the one held has gone (the id may name a new thread).
    template <class Parse>
    auto read_file(pid_t tid, Kind kind, Parse parse) -> decltype(parse(0));
    void close_file(int& fd);  // if open; -1 after
    void close_files(ThreadFiles& files);

    pid_t pid_;
    DescriptorBudget& budget_;
    ThreadStateSource source_;
    int task_dir_ = -1;  // /proc/PID/task, opened on first use
    std::unordered_map<pid_t, ThreadFiles> files_;
    std::size_t open_files_ = 0;
};

// A thread of this process blocked reading a pipe, woken by each byte written to it,
// until the pipe is closed: what the trials of this kernel's behaviour watch.
class PipeWaiter {
public:
    PipeWaiter();  // tid() is 0 where no pipe or thread could be had
    PipeWaiter(const PipeWaiter&) = delete;
    PipeWaiter& operator=(const PipeWaiter&) = delete;
    ~PipeWaiter();
    pid_t tid() const { return tid_; }
    bool wake();  // a byte written

private:
    int ends_[2] = {-1, -1};
    std::atomic<pid_t> tid_{0};
    std::thread thread_;
};

// Waits until thread tid of this process is proven asleep and off its run queue, not
// assumed so after a pause: on a host whose CPUs are all busy it may not have got to
// its wait yet. `stat_lines` reads states from stat lines (asleep by its letter,
// named in a wait channel or not).
enum class OffRunQueue {
    proven,
    unnamed,  // asleep, yet in no wait channel, for longer than any host keeps a thread
              // that marked itself asleep on its run queue: a kernel that names none
    unsure,   // deadline passed
};
OffRunQueue wait_off_run_queue(ThreadActivityReader& stat_lines, pid_t tid,
                               std::chrono::steady_clock::time_point deadline);

// Whether this kernel's wait channels name the function a sleeping thread waits in:
// tried once per process, on a thread of its own blocked on a pipe, then remembered.
// A reader of the best source asks when it is built (when a process is attached),
// so that no sampling thread waits.
bool wait_channels_name_sleepers();
// The same, tried afresh (for the tests).
bool try_wait_channels();

// The state letter of a /proc/PID/task/TID/stat line ('R', 'S', 'D', ...), or 0.
char parse_stat_state(std::string_view stat_line);
// The three numbers of a schedstat line, or nullopt.
std::optional<RunCount> parse_schedstat(std::string_view schedstat_line);

}  // namespace pyprofd::sampler
