#include "sampler/pause_proof.hpp"

#include <algorithm>

namespace pyprofd::sampler {

void ThreadStateTasks::assign(std::span<const Entry> entries) {
    tasks_.clear();
    // Ids claimed by more than one thread state place none of them.
    std::unordered_map<std::uint64_t, int> idents;
    std::unordered_map<pid_t, int> tids;
    for (const auto& e : entries) {
        ++idents[e.ident];
        if (e.host_tid != 0) ++tids[e.host_tid];
    }
    for (const auto& e : entries)
        if (e.state != 0 && e.host_tid != 0 && idents[e.ident] == 1 && tids[e.host_tid] == 1)
            tasks_.emplace(e.state, e.host_tid);
}

std::optional<pid_t> ThreadStateTasks::task_of(RemoteAddress state) const {
    auto it = tasks_.find(state);
    if (it == tasks_.end()) return std::nullopt;
    return it->second;
}

const char* to_string(PauseDoubt doubt) {
    switch (doubt) {
        case PauseDoubt::none: return "none";
        case PauseDoubt::cannot_tell: return "cannot_tell";
        case PauseDoubt::gil_free: return "gil_free";
        case PauseDoubt::holder_unknown: return "holder_unknown";
        case PauseDoubt::holder_not_stopped: return "holder_not_stopped";
    }
    return "?";
}

PauseDoubt doubt_about(const std::optional<std::vector<RemoteAddress>>& holders, const ThreadStateTasks& tasks,
                       std::span<const pid_t> stopped) {
    if (!holders || holders->empty()) return PauseDoubt::cannot_tell;
    for (RemoteAddress holder : *holders) {
        if (holder == 0) return PauseDoubt::gil_free;
        auto tid = tasks.task_of(holder);
        if (!tid) return PauseDoubt::holder_unknown;
        if (std::ranges::find(stopped, *tid) == stopped.end()) return PauseDoubt::holder_not_stopped;
    }
    return PauseDoubt::none;
}

std::optional<std::vector<pid_t>> holders_to_stop(const std::optional<std::vector<RemoteAddress>>& holders,
                                                  const ThreadStateTasks& tasks) {
    if (!holders || holders->empty()) return std::nullopt;
    std::vector<pid_t> tids;
    for (RemoteAddress holder : *holders) {
        if (holder == 0) return std::nullopt;
        auto tid = tasks.task_of(holder);
        if (!tid) return std::nullopt;
        tids.push_back(*tid);
    }
    return tids;
}

}  // namespace pyprofd::sampler
