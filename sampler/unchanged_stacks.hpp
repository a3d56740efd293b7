#pragma once
// A thread that has not run since its stack was read still has that stack. Most
// threads of a service are parked (a pool waiting for work, a timer, a queue), and
// reading their stacks again each sample made a sample's cost grow with how many
// threads exist instead of with how many did something. This keeps each thread's
// last stack and lets a sample reuse it when the kernel's own count proves the
// thread was not put on a CPU since:
//
//  1. Its run count (schedstat) is read at the start of the sample, before any of the
//     sample's memory is read; the stack that sample reads was therefore there at
//     some instant after the count was taken.
//  2. Its state, read after that count, said it was off a CPU: off its run queue, by
//     its wait channel (thread_activity.hpp; where the kernel names none, its stat
//     line's letter). (A thread on a CPU when its count is read may have run on
//     without the count moving yet; so may one that had only marked itself asleep
//     and was woken before it switched out, which the letter cannot tell.)
//  3. In a later sample, the count read before that sample's memory is unchanged:
//     the thread was not put on a CPU between the two counts, so nothing it runs
//     moved its stack. Only the thread itself pushes and pops its frames.
//  4. The same thread: thread state address, ident, OS thread and frame pointer.
//
// A thread reused this way many samples in a row (a pool's idle worker) gets a
// sched-in watch (sched_in_watch.hpp), armed before a count is read. Once that count
// proves the thread has not run since its stack was read, the watch covers all
// after: while it is untouched the stack is reused with no count read at all. A
// thread that runs loses its watch, and earns it again the same way.
//
// Threads that did run get their stacks read afresh; the pages their last read
// touched are handed to the sample's first batched read, so that waking up does not
// cost them a read of their own. Not for blocking mode: stopping a thread moves its
// count, and a blocking sample reads everything at the stop.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "sampler/remote_memory.hpp"
#include "sampler/sched_in_watch.hpp"
#include "sampler/stack_trace.hpp"
#include "sampler/thread_activity.hpp"

namespace pyprofd::sampler {

// Which thread a stack belongs to, as the sample sees it.
struct ThreadKey {
    RemoteAddress thread_state = 0;
    std::uint64_t ident = 0;
    pid_t host_tid = 0;
    RemoteAddress frame_field = 0;
    bool operator==(const ThreadKey&) const = default;
};

class UnchangedStacks {
public:
    // Before the sample reads any memory: each known thread's run count now, or its
    // watch's word. Threads reused watch_after times in a row get a watch (0: none).
    // check_watches (for the tests): read the counts of watched threads too, before
    // their watches, for watch_contradicted().
    void start_sample(ThreadActivityReader& activity, std::uint32_t watch_after = 0, bool check_watches = false);
    // The last pages of the threads whose stacks will be read afresh.
    void pages_to_read_again(std::vector<RemoteAddress>& out) const;
    // The thread's stack, when it provably has not changed since it was read; the
    // thread is then off a CPU.
    const FrameList* unchanged(const ThreadKey& key);
    // Whether unchanged(key) will hand out a stack this sample: asked before it is, by
    // the walk of the thread list (listed_thread_states.hpp).
    bool will_reuse(const ThreadKey& key) const {
        auto it = threads_.find(key.thread_state);
        return it != threads_.end() && it->second.reusable_as(key);
    }
    // will_reuse(), on the word of a watch (sched_in_watch.hpp), which can be asked
    // again later: the walk of the thread list passes by only such threads' states.
    bool will_reuse_watched(const ThreadKey& key) const {
        auto it = threads_.find(key.thread_state);
        return it != threads_.end() && it->second.reusable_as(key) && it->second.watch != Known::Watch::none;
    }
    // For a thread will_reuse_watched() vouched for: its watch has still seen no
    // sched-in. Asked once the memory read on that proof is read (the proof is taken
    // before the sample reads any, and the thread may have run in between).
    bool still_unchanged(const ThreadKey& key) const {
        return will_reuse_watched(key) && watches_.untouched(key.thread_state);
    }
    // The run count taken at this sample's start (for checking a reuse afterwards).
    std::optional<RunCount> count_at_start(const ThreadKey& key) const {
        auto it = threads_.find(key.thread_state);
        return it == threads_.end() ? std::nullopt : it->second.now;
    }
    // check_watches: the thread's watch vouched for it this sample, but its count,
    // read just before, says it was put on a CPU since its stack was read.
    bool watch_contradicted(const ThreadKey& key) const;
    // The stack this sample read for a thread, the pages that read touched, and
    // whether the thread was off a CPU after this sample's run count was taken.
    void remember(const ThreadKey& key, const FrameList& frames, std::span<const RemoteAddress> pages,
                  bool off_cpu);
    // Forgets the threads this sample did not meet (they ended).
    void end_sample();
    // Forgets everything (blocking samples, or when the stacks cannot be trusted).
    void clear();

    std::size_t size() const { return threads_.size(); }
    // How many known threads start_sample() found provably unchanged this sample.
    std::size_t provably_unchanged() const { return provably_unchanged_; }
    // Stacks reused on a watch alone, with no run count read, since the start.
    std::uint64_t watched_reuses() const { return watched_reuses_; }

private:
    struct Known {
        ThreadKey key;
        std::optional<RunCount> when_read;  // the count taken before the stack was read
        std::optional<RunCount> now;        // the count taken at this sample's start
        bool off_cpu = false;
        bool seen = false;
        std::uint32_t reused_in_a_row = 0;
        // Counts in a row that showed it had run since its stack was read, though it
        // was off a CPU then (a busy thread waiting its turn for the GIL), and samples
        // left whose count is not read: each read is a /proc read that vouches for nothing.
        std::uint32_t ran_in_a_row = 0;
        std::uint32_t counts_to_skip = 0;
        // pending: armed, until a count taken after it proves the stack unchanged.
        enum class Watch { none, pending, valid } watch = Watch::none;
        bool watch_vouched = false;  // this sample's `now` is the watch's, not a count read
        bool files_released = false;  // its thread files closed while the watch vouches
        std::optional<RunCount> checked;  // check_watches: the count read all the same
        FrameList frames;  // shared with the samples that reuse it
        std::vector<RemoteAddress> pages;

        bool provably_unchanged() const { return off_cpu && when_read && now && *when_read == *now; }
        bool reusable_as(const ThreadKey& asked) const { return key == asked && provably_unchanged(); }
    };
    void forget_watch(RemoteAddress address, Known& known);

    std::unordered_map<RemoteAddress, Known> threads_;  // by thread state address
    SchedInWatchSet watches_;                           // by thread state address too
    std::uint64_t watched_reuses_ = 0;
    std::size_t provably_unchanged_ = 0;
    // Samples left before another watch is armed, after the kernel refused one (out
    // of locked memory or descriptors, say): each try costs a perf_event_open.
    std::uint32_t samples_before_arming_ = 0;
};

}  // namespace pyprofd::sampler
