#pragma once
// The interpreters' thread lists as the last sample walked them, so that the next
// walk can pass by the thread states of threads that provably have not run since,
// instead of reading each again. Of a 160-thread service's 68 pages read a sample,
// 50 held nothing but parked threads' states, read for their `next` links.
//
// A state is passed by (its fields and its `next` taken as last read) only where the
// thread it is and the thread its `next` names are both ones whose stacks the sample
// reuses (unchanged_stacks.hpp: neither was put on a CPU since it was last read):
//
//  - A thread that has not run has not changed its own state: only the thread itself
//    sets its frame pointer and ids.
//  - A state's `next` changes only when the state after it is unlinked; every CPython
//    links new states in at the head, never after another. The state after it is of a
//    thread that has not run either, so that thread did not unlink its own state.
//  - Where that second thread did run since (or is unknown), the state before it is
//    read again, so a state unlinked since, and its memory, are never followed.
//
// What this cannot see is a state unlinked by another thread than its own, while its
// thread stays parked: the interpreter's finalization unlinks daemon threads' states,
// and C code may delete another thread's state. So every so often the whole list is
// read (see python_process.cpp), and a walk that must hold (blocking mode, a walk read
// again) reads it all.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "sampler/process_tasks.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

// What a sample takes from one thread state.
struct ThreadStateInfo {
    RemoteAddress address = 0;
    RemoteAddress interpreter = 0;
    RemoteAddress frame_field = 0;
    std::uint64_t ident = 0;
    pid_t native_id = 0;  // as the target wrote it: its own namespace's id, or its parent's after a fork
    TaskIds task;         // the task it is, where found (find_tasks)
    RemoteAddress next = 0;  // the list's next state, as last read
    bool passed_by = false;  // taken from the last walk, not read (nor its task looked for)
};

class ListedThreadStates {
public:
    // The last walk's state at `address`, where this walk may pass it by: it is of
    // `interpreter`'s list, and `unchanged(state)` holds for it and for the state
    // its `next` names (if any). nullptr: read it. Calls in list order are the cheap
    // ones.
    template <class Unchanged>
    const ThreadStateInfo* passable(RemoteAddress address, RemoteAddress interpreter, Unchanged&& unchanged) {
        const auto at = find(address);
        if (at == none) return nullptr;
        const auto& state = order_[at];
        if (state.interpreter != interpreter || !vouched(at, unchanged)) return nullptr;
        if (state.next != 0) {
            const auto after = at + 1 < order_.size() && order_[at + 1].address == state.next ? at + 1 : find(state.next);
            if (after == none || !vouched(after, unchanged)) return nullptr;
        }
        return &state;
    }
    // The states a walk found, in list order (the next walk's starting point).
    void remember(std::span<const ThreadStateInfo> walk);
    // The pages of the states remembered, each `state_bytes` long: for a walk of the
    // whole list to have read up front, as the pages of the states it passed by are
    // not among those the last sample read.
    void append_pages(std::vector<RemoteAddress>& out, std::size_t state_bytes) const;
    // A new walk over the states remembered: what passable() worked out is forgotten.
    void start_walk();
    void clear();
    std::size_t size() const { return order_.size(); }

private:
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    static constexpr std::size_t few = 32;
    std::size_t find(RemoteAddress address);
    template <class Unchanged>
    bool vouched(std::size_t at, Unchanged& unchanged) {
        if (verdicts_[at] == Verdict::unknown)
            verdicts_[at] = unchanged(order_[at]) ? Verdict::unchanged : Verdict::changed;
        return verdicts_[at] == Verdict::unchanged;
    }

    enum class Verdict : std::uint8_t { unknown, unchanged, changed };
    std::vector<ThreadStateInfo> order_;
    std::vector<Verdict> verdicts_;  // this walk's, per state of order_
    std::size_t cursor_ = 0;          // where the walk is expected next
    std::unordered_map<RemoteAddress, std::size_t> index_;  // built on the first miss of the cursor
    bool indexed_ = false;
};

}  // namespace pyprofd::sampler
