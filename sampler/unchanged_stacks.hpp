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
//  2. Its state letter, read after that count, said it was off a CPU. (A thread on a
//     CPU when its count is read may have run on without the count moving yet.)
//  3. In a later sample, the count read before that sample's memory is unchanged:
//     the thread was not put on a CPU between the two counts, so nothing it runs
//     moved its stack. Only the thread itself pushes and pops its frames.
//  4. The same thread: thread state address, ident, OS thread and frame pointer.
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
    // Before the sample reads any memory: each known thread's run count now.
    void start_sample(ThreadActivityReader& activity);
    // The last pages of the threads whose stacks will be read afresh.
    void pages_to_read_again(std::vector<RemoteAddress>& out) const;
    // The thread's stack, when it provably has not changed since it was read; the
    // thread is then off a CPU.
    const std::vector<Frame>* unchanged(const ThreadKey& key);
    // The run count taken at this sample's start (for checking a reuse afterwards).
    std::optional<RunCount> count_at_start(const ThreadKey& key) const {
        auto it = threads_.find(key.thread_state);
        return it == threads_.end() ? std::nullopt : it->second.now;
    }
    // The stack this sample read for a thread, the pages that read touched, and
    // whether the thread was off a CPU after this sample's run count was taken.
    void remember(const ThreadKey& key, const std::vector<Frame>& frames, std::span<const RemoteAddress> pages,
                  bool off_cpu);
    // Forgets the threads this sample did not meet (they ended).
    void end_sample();
    // Forgets everything (blocking samples, or when the stacks cannot be trusted).
    void clear() { threads_.clear(); }

    std::size_t size() const { return threads_.size(); }

private:
    struct Known {
        ThreadKey key;
        std::optional<RunCount> when_read;  // the count taken before the stack was read
        std::optional<RunCount> now;        // the count taken at this sample's start
        bool off_cpu = false;
        bool seen = false;
        std::vector<Frame> frames;
        std::vector<RemoteAddress> pages;

        bool provably_unchanged() const { return off_cpu && when_read && now && *when_read == *now; }
    };
    std::unordered_map<RemoteAddress, Known> threads_;  // by thread state address
};

}  // namespace pyprofd::sampler
