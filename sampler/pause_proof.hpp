#pragma once
// Blocking mode without stopping every thread: which threads a sample must stop,
// and whether stopping them made the sample exact.
//
// A thread's Python stack changes only while the thread holds the GIL (one per
// interpreter from 3.12 on, where an interpreter may have its own), and a thread
// writes its thread state into the GIL's holder word before it runs any Python
// (gil_holders.hpp). So if, after every stack of a sample has been read, each GIL's
// word still names a thread state whose thread was stopped before the first read,
// no other thread has run Python since that thread stopped: nothing could change
// under the reads, and the sample is as exact as one taken with every thread
// stopped. (The word names its writer's thread state: a thread other than the
// stopped one would have had to write its own to run.) Stopping that one thread
// instead of hundreds is what keeps a many-thread target running at full speed.
//
// The proof needs the thread a thread state runs on. That is taken from the thread
// state's own ids, and only where no other listed thread state claims the same ids
// (a thread state just made carries its creator's ids until its thread starts, and
// one made by one thread for another's use carries the maker's): where it is not
// unambiguous, or a word is empty (2.7 to 3.11 while the GIL is free), or the
// version keeps no word we can find, there is no proof and every thread is stopped,
// as before.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

// Which thread (the host's TID) each thread state of a sample is, where unambiguous.
class ThreadStateTasks {
public:
    struct Entry {
        RemoteAddress state = 0;
        std::uint64_t ident = 0;  // threading.get_ident()
        pid_t host_tid = 0;       // 0 where not found
    };
    // Replaces what was known with one sample's thread states.
    void assign(std::span<const Entry> entries);
    // The thread a thread state is; nullopt where unknown or ambiguous.
    std::optional<pid_t> task_of(RemoteAddress state) const;

private:
    std::unordered_map<RemoteAddress, pid_t> tasks_;
};

// Why a sample could not be proven exact by stopping the GILs' holders alone.
enum class PauseDoubt {
    none,                // proven: every GIL's holder is stopped
    cannot_tell,         // the version keeps no holder word we can read, or a read failed
    gil_free,            // a word is empty: no holder to stop, and any thread may take it next
    holder_unknown,      // a word names a thread state not placed on one thread
    holder_not_stopped,  // a word names a thread that is not stopped (the GIL moved on)
};

const char* to_string(PauseDoubt doubt);

// Judges each GIL's holder word (nullopt: none could be read) against the threads held.
PauseDoubt doubt_about(const std::optional<std::vector<RemoteAddress>>& holders, const ThreadStateTasks& tasks,
                       std::span<const pid_t> stopped);

// The threads to stop so that every GIL's holder is: nullopt where that cannot be
// known (any doubt but holder_not_stopped), and every thread must be stopped.
std::optional<std::vector<pid_t>> holders_to_stop(const std::optional<std::vector<RemoteAddress>>& holders,
                                                  const ThreadStateTasks& tasks);

// Which threads a blocking sample stopped in the end, and when it knew.
enum class PauseStage {
    holders_only,     // only the GILs' holders: proven exact
    all_before,       // every thread, the doubt found before stopping any
    all_after_stop,   // every thread, the doubt found right after stopping the holders
    all_after_reads,  // every thread, the doubt found after the reads: the sample was read again
};

// What blocking mode did, counted over a session (for the benchmarks and tests).
struct PauseCounts {
    std::uint64_t samples = 0;          // samples taken with threads stopped
    std::uint64_t threads_stopped = 0;  // threads stopped, over all samples
    std::uint64_t by_stage[4] = {};     // samples, by PauseStage
    std::uint64_t by_doubt[5] = {};     // samples that stopped every thread, by the PauseDoubt that made them

    void add(PauseStage stage, PauseDoubt doubt, std::size_t threads) {
        ++samples;
        threads_stopped += threads;
        ++by_stage[static_cast<int>(stage)];
        if (stage != PauseStage::holders_only) ++by_doubt[static_cast<int>(doubt)];
    }
    std::uint64_t holders_only() const { return by_stage[static_cast<int>(PauseStage::holders_only)]; }
    std::uint64_t stopped_all() const { return samples - holders_only(); }
    std::uint64_t at(PauseStage stage) const { return by_stage[static_cast<int>(stage)]; }
    std::uint64_t at(PauseDoubt doubt) const { return by_doubt[static_cast<int>(doubt)]; }
};

}  // namespace pyprofd::sampler
