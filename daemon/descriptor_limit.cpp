#include "daemon/descriptor_limit.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include "sampler/descriptor_budget.hpp"

#include <algorithm>
#include <mutex>

namespace pyprofd::daemon {

namespace {

std::once_flag raised;
std::optional<rlimit> limit_at_start;

}  // namespace

std::size_t raise_descriptor_limit() {
    std::call_once(raised, [] {
        rlimit limit{};
        if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
        limit_at_start = limit;
        if (limit.rlim_cur < limit.rlim_max) {
            limit.rlim_cur = limit.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &limit);
        }
    });
    constexpr std::size_t most = std::size_t{1} << 22;
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) != 0) return 1024;
    return now.rlim_cur == RLIM_INFINITY ? most : std::min<std::size_t>(now.rlim_cur, most);
}

std::optional<rlimit> descriptor_limit_at_start() { return limit_at_start; }

DescriptorShares fit_descriptor_limit(std::size_t max_connections) {
    const auto descriptors = raise_descriptor_limit();
    // State files, checkpoints, /proc files read once, the process scan, attaches under way.
    constexpr std::size_t for_the_rest = 64;
    auto room = descriptors > 2 * for_the_rest ? (descriptors - for_the_rest) / 2 : 4;
    DescriptorShares shares{max_connections, 0};
    if (room < max_connections) {
        spdlog::warn("limits.max_connections is {}, but with {} descriptors at most {} connections leave room for "
                     "the sessions: {} it is (raise the limit with LimitNOFILE= or ulimit -n)",
                     max_connections, descriptors, room, room);
        shares.connections = room;
    }
    auto taken = for_the_rest + shares.connections;
    auto left = descriptors > taken ? descriptors - taken : 0;
    shares.kept_thread_files = left / 2;
    shares.process_files = left - shares.kept_thread_files;
    spdlog::info("{} descriptors: up to {} connections, {} for the processes sessions attach or launch (about {} "
                 "processes), and up to {} thread files kept open between samples",
                 descriptors, shares.connections, shares.process_files,
                 shares.process_files / sampler::descriptors_per_attached_process, shares.kept_thread_files);
    return shares;
}

DescriptorUse descriptor_use() {
    DescriptorUse use;
    // (Out of descriptors, the listing itself fails: unknown, not 0.)
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        std::size_t open = 0;
        while (const dirent* entry = ::readdir(dir))
            if (entry->d_name[0] != '.') ++open;
        ::closedir(dir);
        use.open = open - 1;  // not the listing's own
    }
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) == 0) use.limit = now.rlim_cur == RLIM_INFINITY ? 0 : now.rlim_cur;
    const auto& processes = sampler::process_descriptor_budget();
    const auto& threads = sampler::thread_file_budget();
    use.process_files_held = processes.held();
    use.process_files_cap = processes.cap();
    use.thread_files_held = threads.held();
    use.thread_files_cap = threads.cap();
    return use;
}

}  // namespace pyprofd::daemon
