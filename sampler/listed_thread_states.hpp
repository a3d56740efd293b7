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
//  - A thread that has not run has not changed its own state: its frame pointer and,
//    once it has started, its ids are set by the thread itself. Not before: 3.7 to
//    3.11 link a new thread's state in with the ids of the thread that starts it,
//    which the new thread overwrites as it starts. A state whose ids another listed
//    state shares (the starting thread's own) is therefore never passed by.
//  - A state's `next` changes only when the state after it is unlinked; every CPython
//    links new states in at the head, never after another. The state after it is of a
//    thread that has not run either, so that thread did not unlink its own state.
//  - Where that second thread did run since (or is unknown), the state before it is
//    read again, so a state unlinked since, and its memory, are never followed.
//  - A state reached another way than in the last walk (from another state, or from
//    the head) is read: its address may be a new state's now.
//  - The proofs come before the sample reads any memory (unchanged_stacks.hpp), and
//    a thread may run in between: one that ends unlinks its state, and one that
//    starts may be given the freed state's place at the head. A state passed by on
//    the earlier proof would then be reported for a thread gone, or its link would
//    lead to the new state and around the list again. So only threads with a watch
//    (sched_in_watch.hpp) are passed by, and once the walk is read every watch that
//    vouched is looked at again (vouched_still()): if one saw its thread put on a
//    CPU, the caller reads the whole list afresh. (Seen under load on 3.15 before:
//    16 parked threads twice in one sample; a test ends threads at that moment.)
//  - A state reached a second time in one walk ends it too (met_a_state_twice()): a
//    list never does that.
//
// What this cannot see is a state unlinked by another thread than its own, while its
// thread stays parked: the interpreter's finalization unlinks daemon threads' states,
// and C code may delete another thread's state. Such a state is still reported until
// the whole list is read, every so often (see python_process.cpp); a walk that must
// hold (blocking mode, a walk read again) reads it all.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
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
    RemoteAddress reached_from = 0;  // the state whose `next` led here; 0: the list's head
    bool passed_by = false;  // taken from the last walk, not read (nor its task looked for)
};

class ListedThreadStates {
public:
    // The last walk's state at `address`, where this walk may pass it by: it is of
    // `interpreter`'s list, reached from the same state as last time (`from`: 0 for
    // the head) and not yet in this walk, and `unchanged(state)` holds for it and for
    // the state its `next` names (if any). nullptr: read it. Asked of every state the
    // walk meets, in list order (the cheap one).
    template <class Unchanged>
    const ThreadStateInfo* passable(RemoteAddress address, RemoteAddress from, RemoteAddress interpreter,
                                    Unchanged&& unchanged) {
        const auto at = find(address);
        if (at == none) return nullptr;
        if (met_[at]) {
            met_twice_ = true;
            return nullptr;
        }
        met_[at] = true;
        const auto& state = order_[at];
        if (state.interpreter != interpreter || state.reached_from != from || !vouched(at, unchanged))
            return nullptr;
        if (state.next != 0) {
            const auto after = at + 1 < order_.size() && order_[at + 1].address == state.next ? at + 1 : find(state.next);
            if (after == none || !vouched(after, unchanged)) return nullptr;
        }
        return &state;
    }
    // After a walk that passed states by: whether every state it vouched for (each
    // passed by, and each one after such a state) still is, by `still_unchanged`,
    // asked now that the walk's memory has been read.
    template <class StillUnchanged>
    bool vouched_still(StillUnchanged&& still_unchanged) const {
        for (std::size_t i = 0; i < verdicts_.size(); ++i)
            if (verdicts_[i] == Verdict::unchanged && !still_unchanged(order_[i])) return false;
        return true;
    }
    // Whether this walk met a state of the last walk twice (then passable() said to
    // read it): the walk is not the list, and must be read again whole.
    bool met_a_state_twice() const { return met_twice_; }
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
            verdicts_[at] = !shares_ids_[at] && unchanged(order_[at]) ? Verdict::unchanged : Verdict::changed;
        return verdicts_[at] == Verdict::unchanged;
    }

    enum class Verdict : std::uint8_t { unknown, unchanged, changed };
    std::vector<ThreadStateInfo> order_;
    std::vector<bool> shares_ids_;   // per state of order_: another state of its interpreter has its ident
    std::vector<Verdict> verdicts_;  // this walk's, per state of order_
    std::vector<bool> met_;          // this walk's: passable() asked already
    bool met_twice_ = false;         // this walk's: passable() asked twice of one state
    std::vector<std::pair<std::pair<RemoteAddress, std::uint64_t>, std::size_t>> by_ids_;  // scratch
    std::size_t cursor_ = 0;          // where the walk is expected next
    std::unordered_map<RemoteAddress, std::size_t> index_;  // built on the first miss of the cursor
    bool indexed_ = false;
};

}  // namespace pyprofd::sampler
