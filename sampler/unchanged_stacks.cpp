#include "sampler/unchanged_stacks.hpp"

#include <algorithm>

namespace pyprofd::sampler {
namespace {

// Pages kept per thread to read again up front: a stack's frames lie in one or two
// data-stack chunks (or a few frame-object pools) plus its thread state and C stack.
// A bound, since the thread list comes from the target.
constexpr std::size_t max_pages_per_thread = 16;
// After a watch is refused, none is tried for this many samples.
constexpr std::uint32_t samples_after_refusal = 1024;
// At most this many samples go without a count of a thread found to run each time
// its count was read: how much later its stack is reused once it parks.
constexpr std::uint32_t most_counts_skipped = 8;

}  // namespace

void UnchangedStacks::start_sample(ThreadActivityReader& activity, std::uint32_t watch_after, bool check_watches) {
    watches_.drop_exited();  // an exited thread's watch would stay untouched for ever
    if (samples_before_arming_ > 0) --samples_before_arming_;
    provably_unchanged_ = 0;
    for (auto& [address, known] : threads_) {
        known.seen = false;
        known.watch_vouched = false;
        known.checked.reset();
        // A thread that was on a CPU when its stack was read cannot be proven to have
        // kept it: its count is not worth a read.
        if (!known.off_cpu || known.counts_to_skip > 0) {
            if (known.off_cpu) --known.counts_to_skip;
            known.now.reset();
            continue;
        }
        if (known.watch == Known::Watch::valid) {
            // Before the watch is looked at: a sched-in after this count is one the
            // watch may see, one before it is one the watch must have seen.
            if (check_watches) known.checked = activity.run_count(known.key.host_tid);
            if (watches_.untouched(address)) {
                known.now = known.when_read;  // not put on a CPU since it was read
                known.watch_vouched = true;
                ++provably_unchanged_;
                // One descriptor a parked thread, not two: its count is read again
                // only once the watch sees it run.
                if (!known.files_released) activity.release(known.key.host_tid);
                known.files_released = true;
                continue;
            }
            forget_watch(address, known);  // it ran, or exited: its count says which
        } else if (known.watch == Known::Watch::none && watch_after > 0 && known.when_read &&
                   known.reused_in_a_row >= watch_after && samples_before_arming_ == 0) {
            // Armed, then the thread found off its run queue, then its count read: if
            // the count proves it has not run since its stack was read, the watch
            // covers everything after. Off the run queue, not merely marked asleep: a
            // thread woken before it switched out runs on with no sched-in to see.
            if (!watches_.arm(address, known.key.host_tid)) {
                samples_before_arming_ = samples_after_refusal;
                known.reused_in_a_row = 0;
            } else if (activity.off_run_queue(known.key.host_tid)) {
                known.watch = Known::Watch::pending;
            } else {  // about to run, or running: tried again after as many more reuses
                watches_.disarm(address);
                known.reused_in_a_row = 0;
            }
        }
        known.now = activity.run_count(known.key.host_tid);
        // Against the count before its stack was last read: none after a sample that
        // skipped it, so a thread that parked is reused two samples after the skips.
        if (known.now && known.when_read) {
            if (*known.now == *known.when_read)
                known.ran_in_a_row = 0;
            else if (++known.ran_in_a_row >= 2)  // then 1, 2, 4, 8 samples skipped
                known.counts_to_skip = std::min(1U << std::min(known.ran_in_a_row - 2, 3U), most_counts_skipped);
        }
        provably_unchanged_ += known.provably_unchanged();
    }
}

bool UnchangedStacks::watch_contradicted(const ThreadKey& key) const {
    auto it = threads_.find(key.thread_state);
    if (it == threads_.end() || !it->second.watch_vouched) return false;
    const auto& known = it->second;
    // Its CPU time and times put on a CPU, that is. Its time waiting for a CPU can
    // grow while it has not yet run: woken, and moved to another CPU's queue. And the
    // watch looked at again now: the kernel counts a sched-in a moment before it
    // tells the watch, so one under way when the count was read is no contradiction.
    return known.checked && known.when_read &&
           (known.checked->cpu_ns != known.when_read->cpu_ns ||
            known.checked->times_run != known.when_read->times_run) &&
           watches_.untouched(it->first);
}

void UnchangedStacks::forget_watch(RemoteAddress address, Known& known) {
    if (known.watch != Known::Watch::none) watches_.disarm(address);
    known.watch = Known::Watch::none;
    known.files_released = false;
}

void UnchangedStacks::clear() {
    for (auto& [address, known] : threads_) forget_watch(address, known);
    threads_.clear();
}

void UnchangedStacks::pages_to_read_again(std::vector<RemoteAddress>& out) const {
    for (const auto& [address, known] : threads_) {
        if (known.provably_unchanged()) continue;
        if (out.size() + known.pages.size() > RemoteMemory::max_snapshot_pages) return;
        out.insert(out.end(), known.pages.begin(), known.pages.end());
    }
}

const FrameList* UnchangedStacks::unchanged(const ThreadKey& key) {
    auto it = threads_.find(key.thread_state);
    if (it == threads_.end()) return nullptr;
    auto& known = it->second;
    if (!known.reusable_as(key)) return nullptr;
    known.seen = true;
    ++known.reused_in_a_row;
    if (known.watch == Known::Watch::pending) known.watch = Known::Watch::valid;
    if (known.watch_vouched) ++watched_reuses_;
    return &known.frames;
}

void UnchangedStacks::remember(const ThreadKey& key, const FrameList& frames,
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
    if (!same_thread) known.ran_in_a_row = known.counts_to_skip = 0;
    known.now.reset();
    // Read afresh: it ran (or is another thread), and earns a watch again.
    forget_watch(key.thread_state, known);
    known.reused_in_a_row = 0;
    known.key = key;
    known.off_cpu = off_cpu;
    known.seen = true;
    known.frames = frames;
    known.pages.assign(pages.begin(), pages.begin() + static_cast<std::ptrdiff_t>(
                                                          std::min(pages.size(), max_pages_per_thread)));
}

void UnchangedStacks::end_sample() {
    for (auto it = threads_.begin(); it != threads_.end();) {
        if (it->second.seen) {
            ++it;
            continue;
        }
        forget_watch(it->first, it->second);
        it = threads_.erase(it);
    }
}

}  // namespace pyprofd::sampler
