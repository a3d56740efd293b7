#include "sampler/thread_activity.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

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

ThreadActivity read_thread_activity(pid_t pid, pid_t tid) {
    if (tid <= 0) return ThreadActivity::unknown;
    auto path = fmt::format("/proc/{}/task/{}/stat", pid, tid);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ThreadActivity::unknown;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n <= 0) return ThreadActivity::unknown;
    char state = parse_stat_state(std::string_view(buf, static_cast<std::size_t>(n)));
    if (state == 0) return ThreadActivity::unknown;
    return state == 'R' ? ThreadActivity::running : ThreadActivity::idle;
}

}  // namespace pyprofd::sampler
