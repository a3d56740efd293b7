#include "sampler/unchanged_stacks.hpp"

#include <algorithm>

namespace pyprofd::sampler {
namespace {

// Pages kept per thread to read again up front: a stack's frames lie in one or two
// data-stack chunks (or a few frame-object pools) plus its thread state and C stack.
// A bound, since the thread list comes from the target.
constexpr std::size_t max_pages_per_thread = 16;

}  // namespace

void UnchangedStacks::start_sample(ThreadActivityReader& activity) {
    for (auto& [address, known] : threads_) {
        // A thread that was on a CPU when its stack was read cannot be proven to have
        // kept it: its count is not worth a read.
        known.now = known.off_cpu ? activity.run_count(known.key.host_tid) : std::nullopt;
        known.seen = false;
    }
}

void UnchangedStacks::pages_to_read_again(std::vector<RemoteAddress>& out) const {
    for (const auto& [address, known] : threads_) {
        if (known.provably_unchanged()) continue;
        if (out.size() + known.pages.size() > RemoteMemory::max_snapshot_pages) return;
        out.insert(out.end(), known.pages.begin(), known.pages.end());
    }
}

const std::vector<Frame>* UnchangedStacks::unchanged(const ThreadKey& key) {
    auto it = threads_.find(key.thread_state);
    if (it == threads_.end()) return nullptr;
    auto& known = it->second;
    if (known.key != key || !known.provably_unchanged()) return nullptr;
    known.seen = true;
    return &known.frames;
}

void UnchangedStacks::remember(const ThreadKey& key, const std::vector<Frame>& frames,
                               std::span<const RemoteAddress> pages, bool off_cpu) {
    auto [it, fresh] = threads_.try_emplace(key.thread_state);
    auto& known = it->second;
    // Only a count of this very thread, taken before this sample's reads, vouches
    // for the stack just read.
    const bool same_thread = !fresh && known.key.host_tid == key.host_tid && known.key.ident == key.ident;
    // (A thread on a CPU last time had no count taken this sample: one taken now,
    // after its stack was read, would not vouch for the stack. It is reusable from
    // the sample after next.)
    known.when_read = same_thread ? known.now : std::nullopt;
    known.now.reset();
    known.key = key;
    known.off_cpu = off_cpu;
    known.seen = true;
    known.frames = frames;
    known.pages.assign(pages.begin(), pages.begin() + static_cast<std::ptrdiff_t>(
                                                          std::min(pages.size(), max_pages_per_thread)));
}

void UnchangedStacks::end_sample() {
    std::erase_if(threads_, [](const auto& entry) { return !entry.second.seen; });
}

}  // namespace pyprofd::sampler
