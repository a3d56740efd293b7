#include "sampler/thread_activity.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "sampler/proc_files.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {

const char* to_string(ThreadActivity activity) {
    switch (activity) {
        case ThreadActivity::running: return "running";
        case ThreadActivity::idle: return "idle";
        case ThreadActivity::unknown: return "unknown";
    }
    return "unknown";
}

char parse_stat_state(std::string_view stat_line) {
    auto rest = stat_after_command(stat_line);
    return rest.empty() ? 0 : rest.front();
}

std::optional<RunCount> parse_schedstat(std::string_view line) {
    std::uint64_t values[3];
    const char* at = line.data();
    const char* end = line.data() + line.size();
    for (auto& value : values) {
        while (at < end && *at == ' ') ++at;
        auto [next, ec] = std::from_chars(at, end, value);
        if (ec != std::errc{} || next == at) return std::nullopt;
        at = next;
    }
    return RunCount{values[0], values[1], values[2]};
}

namespace {

// nullopt when the file could not be read (the thread exited).
std::optional<ThreadActivity> activity_from_stat_line(int fd) {
    char buf[512];
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    char state = parse_stat_state(std::string_view(buf, static_cast<std::size_t>(n)));
    if (state == 0) return ThreadActivity::unknown;
    // 'R' is on a CPU or ready for one; everything else waits (sleep, I/O, a lock).
    return state == 'R' ? ThreadActivity::running : ThreadActivity::idle;
}

// nullopt when the file could not be read (the thread exited).
std::optional<ThreadActivity> activity_from_wait_channel(int fd) {
    char buf[128];  // a kernel function's name
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    // "0" while it runs, is runnable or is still on a run queue; a function's name once
    // it is off one.
    return n == 1 && buf[0] == '0' ? ThreadActivity::running : ThreadActivity::idle;
}

// nullopt when the file could not be read (the thread exited); a line that does
// not parse is an empty reading, which never proves anything.
std::optional<std::optional<RunCount>> run_count_from(int fd) {
    char buf[128];
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return parse_schedstat(std::string_view(buf, static_cast<std::size_t>(n)));
}

}  // namespace

ThreadActivityReader::ThreadActivityReader(pid_t pid, DescriptorBudget& budget, ThreadStateSource source)
    : pid_(pid), budget_(budget), source_(source) {
    // Found out here, when a process is attached, not by a sampling thread: one that
    // samples in the real-time class waited up to 180 ms for the trial's thread.
    if (source_ == ThreadStateSource::best)
        source_ = wait_channels_name_sleepers() ? ThreadStateSource::wait_channel : ThreadStateSource::stat_line;
}

ThreadActivityReader::~ThreadActivityReader() {
    for (auto& [tid, files] : files_) close_files(files);
    if (task_dir_ >= 0) ::close(task_dir_);
}

void ThreadActivityReader::close_file(int& fd) {
    if (fd < 0) return;
    ::close(fd);
    fd = -1;
    --open_files_;
    budget_.give_back();
}

void ThreadActivityReader::close_files(ThreadFiles& files) {
    close_file(files.state);
    close_file(files.schedstat);
}

int ThreadActivityReader::open_file(pid_t tid, Kind kind) {
    return open_task_file(tid, kind == Kind::schedstat                     ? "schedstat"
                               : source_ == ThreadStateSource::wait_channel ? "wchan"
                                                                            : "stat");
}

int ThreadActivityReader::open_task_file(pid_t tid, const char* file) {
    if (task_dir_ < 0) {
        auto dir = fmt::format("/proc/{}/task", pid_);
        task_dir_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (task_dir_ < 0) return -1;
    }
    char name[48];
    auto end = fmt::format_to_n(name, sizeof name - 1, "{}/{}", tid, file).out;
    *end = '\0';
    return ::openat(task_dir_, name, O_RDONLY | O_CLOEXEC);
}

template <class Parse>
auto ThreadActivityReader::read_file(pid_t tid, Kind kind, Parse parse) -> decltype(parse(0)) {
    auto it = files_.find(tid);
    if (it != files_.end()) {
        auto& files = it->second;
        int held = files.of(kind);
        if (held >= 0) {
            if (auto value = parse(held)) return value;
            // The thread these files were opened for is gone (the id may name a new one).
            close_files(files);
            files_.erase(it);
        } else if (files.changes < changes_before_both_kept) {
            // One of its first changes of kind: the file of the other kind goes.
            ++files.changes;
            close_file(files.of(kind == Kind::state ? Kind::schedstat : Kind::state));
        }
    }
    int fd = open_file(tid, kind);
    if (fd < 0) return std::nullopt;
    auto value = parse(fd);
    // The thread ids come from the target's memory: it decides how many files this
    // would hold open, so past a bound they are not kept; nor past the budget the
    // whole process shares.
    if (value && open_files_ < max_open_thread_stat_files && budget_.try_take()) {
        files_[tid].of(kind) = fd;
        ++open_files_;
    } else {
        ::close(fd);
    }
    return value;
}

ThreadActivity ThreadActivityReader::read(pid_t tid) {
    if (tid <= 0) return ThreadActivity::unknown;
    auto activity = source_ == ThreadStateSource::wait_channel
                        ? read_file(tid, Kind::state, activity_from_wait_channel)
                        : read_file(tid, Kind::state, activity_from_stat_line);
    return activity.value_or(ThreadActivity::unknown);
}

bool ThreadActivityReader::off_run_queue(pid_t tid) {
    if (tid <= 0) return false;
    // From the thread's file where it is kept, and where it is not, opened for this
    // one reading: kept, it would count as a change of kind (see ThreadFiles).
    if (source_ == ThreadStateSource::wait_channel)
        if (auto it = files_.find(tid); it != files_.end() && it->second.state >= 0)
            if (auto activity = activity_from_wait_channel(it->second.state)) return *activity == ThreadActivity::idle;
    // One open and one read (this is part of arming each parked thread's watch).
    // "0" while it runs, is runnable or is still on a run queue; a function's name once
    // it is off one. (Empty, or "0" for all, where the kernel hides symbols.)
    int fd = open_task_file(tid, "wchan");
    if (fd < 0) return false;
    auto activity = activity_from_wait_channel(fd);
    ::close(fd);
    return activity == ThreadActivity::idle;
}

std::optional<RunCount> ThreadActivityReader::run_count(pid_t tid) {
    if (tid <= 0) return std::nullopt;
    return read_file(tid, Kind::schedstat, run_count_from).value_or(std::nullopt);
}

void ThreadActivityReader::release(pid_t tid) {
    // Its entry stays, with its changes of kind: a thread that is watched, wakes and
    // is watched again still earns both files kept.
    if (auto it = files_.find(tid); it != files_.end()) close_files(it->second);
}

void ThreadActivityReader::keep_only(std::span<const pid_t> live) {
    for (auto it = files_.begin(); it != files_.end();) {
        if (std::ranges::find(live, it->first) != live.end()) {
            ++it;
            continue;
        }
        close_files(it->second);
        it = files_.erase(it);
    }
}

using Clock = std::chrono::steady_clock;

PipeWaiter::PipeWaiter() {
    if (::pipe2(ends_, O_CLOEXEC) != 0) return;
    try {
        thread_ = std::thread([this] {
            tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
            char byte;
            while (::read(ends_[0], &byte, 1) == 1) {
            }
        });
    } catch (const std::system_error&) {
        return;
    }
    while (tid_ == 0) std::this_thread::yield();
}

PipeWaiter::~PipeWaiter() {
    if (ends_[1] >= 0) ::close(ends_[1]);  // its read returns 0: it ends
    if (thread_.joinable()) thread_.join();
    if (ends_[0] >= 0) ::close(ends_[0]);
}

bool PipeWaiter::wake() {
    const char byte = 1;
    return ends_[1] >= 0 && ::write(ends_[1], &byte, 1) == 1;
}

// Unnamed for 250 ms, not sooner: a thread preempted just as it marked itself asleep
// stays on its run queue, named in no wait channel, until it runs again, which on a
// busy host took more than 3 ms about once in 130 trials.
OffRunQueue wait_off_run_queue(ThreadActivityReader& stat_lines, pid_t tid, Clock::time_point deadline) {
    constexpr auto unnamed_for_good = std::chrono::milliseconds(250);
    std::optional<Clock::time_point> asleep_unnamed_since;
    for (;;) {
        if (stat_lines.off_run_queue(tid)) return OffRunQueue::proven;
        const auto now = Clock::now();
        if (stat_lines.read(tid) != ThreadActivity::idle)
            asleep_unnamed_since.reset();
        else if (!asleep_unnamed_since)
            asleep_unnamed_since = now;
        else if (now - *asleep_unnamed_since > unnamed_for_good)
            return OffRunQueue::unnamed;
        if (now > deadline) return OffRunQueue::unsure;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// Yes once the waiter's wait channel names a function; no where it stays unnamed, or
// after 3 s of a host too busy to let it get to its read: the stat line is then read.
bool try_wait_channels() {
    PipeWaiter waiter;
    if (waiter.tid() == 0) return false;
    DescriptorBudget budget(1);  // its own: the trial takes nothing from the sessions'
    ThreadActivityReader stat_lines(::getpid(), budget, ThreadStateSource::stat_line);
    return wait_off_run_queue(stat_lines, waiter.tid(), Clock::now() + std::chrono::seconds(3)) ==
           OffRunQueue::proven;
}

bool wait_channels_name_sleepers() {
    static const bool named = try_wait_channels();
    return named;
}

}  // namespace pyprofd::sampler
