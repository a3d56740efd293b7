#include "daemon/descriptor_limit.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>

namespace pyprofd::daemon {

std::size_t fit_descriptor_limit(std::size_t max_connections) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return max_connections;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    constexpr rlim_t for_the_rest = 64;  // state files, /proc files, sessions' first attaches
    auto room = limit.rlim_cur == RLIM_INFINITY ? max_connections
                                                : static_cast<std::size_t>(limit.rlim_cur > 2 * for_the_rest
                                                                               ? (limit.rlim_cur - for_the_rest) / 2
                                                                               : 4);
    if (room < max_connections) {
        spdlog::warn("limits.max_connections is {}, but with {} descriptors at most {} connections leave room for "
                     "the sessions: {} it is (raise the limit with LimitNOFILE= or ulimit -n)",
                     max_connections, limit.rlim_cur, room, room);
        return room;
    }
    return max_connections;
}

}  // namespace pyprofd::daemon
