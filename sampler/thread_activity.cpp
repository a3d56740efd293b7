#include "sampler/thread_activity.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>

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
std::optional<ThreadActivity> activity_from(int fd) {
    char buf[512];
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    char state = parse_stat_state(std::string_view(buf, static_cast<std::size_t>(n)));
    if (state == 0) return ThreadActivity::unknown;
    // 'R' is on a CPU or ready for one; everything else waits (sleep, I/O, a lock).
    return state == 'R' ? ThreadActivity::running : ThreadActivity::idle;
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
    close_file(files.stat);
    close_file(files.schedstat);
}

int ThreadActivityReader::open_file(pid_t tid, Kind kind) {
    if (task_dir_ < 0) {
        auto dir = fmt::format("/proc/{}/task", pid_);
        task_dir_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (task_dir_ < 0) return -1;
    }
    char name[48];
    auto end = fmt::format_to_n(name, sizeof name - 1, "{}/{}", tid, kind == Kind::stat ? "stat" : "schedstat").out;
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
            close_file(files.of(kind == Kind::stat ? Kind::schedstat : Kind::stat));
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
    return read_file(tid, Kind::stat, activity_from).value_or(ThreadActivity::unknown);
}

bool ThreadActivityReader::off_run_queue(pid_t tid) {
    if (tid <= 0) return false;
    auto wchan = read_proc_file(pid_, fmt::format("task/{}/wchan", tid));
    // "0" while it runs, is runnable or is still on a run queue; a function's name once
    // it is off one. (Empty, or "0" for all, where the kernel hides symbols.)
    return wchan && !wchan->empty() && *wchan != "0";
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

}  // namespace pyprofd::sampler
