#include "daemon/descriptor_limit.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>

namespace pyprofd::daemon {

DescriptorShares fit_descriptor_limit(std::size_t max_connections) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {max_connections, 0};
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    constexpr std::size_t for_the_rest = 64;  // state files, /proc files, sessions' first attaches
    if (limit.rlim_cur == RLIM_INFINITY) return {max_connections, std::size_t{1} << 20};
    auto descriptors = static_cast<std::size_t>(limit.rlim_cur);
    auto room = descriptors > 2 * for_the_rest ? (descriptors - for_the_rest) / 2 : 4;
    DescriptorShares shares{max_connections, 0};
    if (room < max_connections) {
        spdlog::warn("limits.max_connections is {}, but with {} descriptors at most {} connections leave room for "
                     "the sessions: {} it is (raise the limit with LimitNOFILE= or ulimit -n)",
                     max_connections, descriptors, room, room);
        shares.connections = room;
    }
    auto taken = for_the_rest + shares.connections;
    shares.kept_thread_files = descriptors > taken ? (descriptors - taken) / 2 : 0;
    spdlog::info("{} descriptors: up to {} connections, and up to {} thread files kept open between samples",
                 descriptors, shares.connections, shares.kept_thread_files);
    return shares;
}

}  // namespace pyprofd::daemon
