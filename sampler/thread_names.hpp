#pragma once
// threading's thread names, read from the target's threading._active, a dict
// from thread ident to Thread object, whose name attribute we read.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>
#include <string>
#include <unordered_map>

#include "sampler/object_reader.hpp"
#include "sampler/stack_trace.hpp"

namespace pyprofd::sampler {

// A thread as its name is looked up: threading's key, and its OS thread, which tells
// a new thread from an ended one whose ident it was given (glibc reuses the
// descriptors, and so the idents, of threads that ended).
struct NamedThread {
    std::uint64_t ident = 0;
    pid_t tid = 0;  // 0: not known
};

class ThreadNames {
public:
    // Reads every name now. `interpreter` is the PyInterpreterState whose sys.modules
    // holds threading. A program that never imported threading has no names.
    Result<void> refresh(const ObjectReader& reader, RemoteAddress interpreter);

    // Refreshes when a thread appears with an ident never seen before, or when the
    // names are older than max_age (threads get renamed, threading gets
    // imported). A thread without a name does not make every sample read the
    // target's modules again.
    //
    // An ident seen before with another OS thread is a new thread under an ended
    // one's ident (glibc gives new threads the descriptors, and so the idents, of
    // ended ones): it loses the old name at once, and gets its own from a refresh
    // at most every reused_ident_refresh. A thread-per-request server starts a thread
    // under a reused ident about every sample, and a refresh for each doubled what
    // its samples cost (a full read of threading._active each time); such threads
    // mostly end unnamed, never misnamed.
    void refresh_if_stale(const ObjectReader& reader, RemoteAddress interpreter,
                          const std::vector<NamedThread>& threads,
                          std::chrono::steady_clock::duration max_age = std::chrono::seconds(10));
    static constexpr std::chrono::milliseconds reused_ident_refresh{50};

    // Null where the thread has none; valid until the next refresh. A copy of it
    // shares its text.
    const ThreadName* name_of(std::uint64_t ident) const;

private:
    Result<RemoteAddress> find_active_dict(const ObjectReader& reader, RemoteAddress interpreter);

    RemoteAddress active_dict_ = 0;  // threading._active, kept between refreshes
    std::unordered_map<std::uint64_t, ThreadName> names_;
    std::unordered_map<std::uint64_t, pid_t> seen_;  // each ident's OS thread when last seen
    std::chrono::steady_clock::time_point refreshed_{};
    bool unnamed_since_refresh_ = false;  // a reused ident lost its name since the last refresh
};

}  // namespace pyprofd::sampler
