#include "sampler/thread_activity.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

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
    // "TID (comm) S ...": comm may hold spaces and parentheses, so look after the last ')'.
    auto close = stat_line.rfind(')');
    if (close == std::string_view::npos || close + 2 >= stat_line.size()) return 0;
    return stat_line[close + 2];
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

}  // namespace

ThreadActivityReader::~ThreadActivityReader() {
    for (auto [tid, fd] : stat_fds_) ::close(fd);
    if (task_dir_ >= 0) ::close(task_dir_);
}

int ThreadActivityReader::open_stat(pid_t tid) {
    if (task_dir_ < 0) {
        auto dir = fmt::format("/proc/{}/task", pid_);
        task_dir_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (task_dir_ < 0) return -1;
    }
    char name[32];
    auto end = fmt::format_to_n(name, sizeof name - 1, "{}/stat", tid).out;
    *end = '\0';
    return ::openat(task_dir_, name, O_RDONLY | O_CLOEXEC);
}

ThreadActivity ThreadActivityReader::read(pid_t tid) {
    if (tid <= 0) return ThreadActivity::unknown;
    auto it = stat_fds_.find(tid);
    if (it != stat_fds_.end()) {
        if (auto activity = activity_from(it->second)) return *activity;
        // The thread this file was opened for is gone; the id may name a new one.
        ::close(it->second);
        stat_fds_.erase(it);
    }
    int fd = open_stat(tid);
    if (fd < 0) return ThreadActivity::unknown;
    auto activity = activity_from(fd).value_or(ThreadActivity::unknown);
    // The thread ids come from the target's memory: it decides how many files this
    // would hold open, so past a bound they are not kept.
    if (stat_fds_.size() < max_open_thread_stat_files)
        stat_fds_.emplace(tid, fd);
    else
        ::close(fd);
    return activity;
}

void ThreadActivityReader::keep_only(std::span<const pid_t> live) {
    std::erase_if(stat_fds_, [&](const auto& entry) {
        if (std::ranges::find(live, entry.first) != live.end()) return false;
        ::close(entry.second);
        return true;
    });
}

}  // namespace pyprofd::sampler
