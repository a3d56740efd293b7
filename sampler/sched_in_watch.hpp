#pragma once
// Whether a thread of another process has been put on a CPU since a moment, told by
// a load from memory instead of a /proc read. A parked thread's stack is reused
// while its run count proves it has not run (unchanged_stacks.hpp), but reading that
// count is a system call per parked thread per sample: 156 of them were three
// quarters of a sample of a 160-thread service.
//
// A software perf event opened on the thread (no sampling, nothing recorded) and
// mapped one page: the kernel rewrites that page's header, bumping its seqlock
// `lock`, each time it schedules the event in, which is each time the thread is put
// on a CPU, and at no other time. So an unchanged, even `lock` says the thread was not
// put on a CPU since the watch was armed. Whether this kernel behaves so is checked
// once per process (sched_in_watches_work()); where it does not, or perf events are
// not allowed, the run counts are read as before.
//
// An event whose thread exits is hung up: SchedInWatchSet polls for that once a
// sample, so a thread id reused by a new thread is never vouched for by the old
// thread's watch.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "sampler/descriptor_budget.hpp"

namespace pyprofd::sampler {

class SchedInWatch {
public:
    // nullopt where the kernel refuses (no permission, no perf events, out of locked
    // memory or descriptors).
    static std::optional<SchedInWatch> arm(pid_t tid);
    SchedInWatch(SchedInWatch&& other) noexcept;
    SchedInWatch& operator=(SchedInWatch&& other) noexcept;
    SchedInWatch(const SchedInWatch&) = delete;
    SchedInWatch& operator=(const SchedInWatch&) = delete;
    ~SchedInWatch();

    // The thread has not been put on a CPU since arm().
    bool untouched() const;
    int fd() const { return fd_; }

private:
    SchedInWatch(int fd, void* page);
    void release();
    int fd_ = -1;
    void* page_ = nullptr;
    std::uint32_t lock_at_arm_ = 0;
};

// Whether this kernel rewrites a watch's page when, and only when, the thread is put
// on a CPU: tried once per process on a thread of its own, then remembered. That
// thread's waiting and running are read from /proc, not assumed after pauses, so a
// host whose CPUs are all busy does not turn watches off for the daemon's life
// (about 10 ms; up to 3 s while the host keeps the thread from running, after which
// the answer is no). The daemon and record ask before they sample, so that no
// sampling thread waits for it.
bool sched_in_watches_work();
// The same, tried afresh (for the tests).
bool try_sched_in_watches();

// The watches of one sampled process, by a key of the caller's (a thread state's
// address), with their exits polled in one system call.
class SchedInWatchSet {
public:
    explicit SchedInWatchSet(DescriptorBudget& budget = thread_file_budget()) : budget_(budget) {}
    SchedInWatchSet(const SchedInWatchSet&) = delete;
    SchedInWatchSet& operator=(const SchedInWatchSet&) = delete;
    ~SchedInWatchSet();

    // Arms a watch on tid under key, replacing any; false where none could be armed.
    bool arm(std::uint64_t key, pid_t tid);
    // The watch under key has seen no sched-in (false where there is none).
    bool untouched(std::uint64_t key) const;
    bool has(std::uint64_t key) const { return watches_.contains(key); }
    void disarm(std::uint64_t key);
    // Disarms the watches whose threads exited.
    void drop_exited();
    std::size_t size() const { return watches_.size(); }

private:
    DescriptorBudget& budget_;
    int epoll_ = -1;
    std::unordered_map<std::uint64_t, SchedInWatch> watches_;
};

}  // namespace pyprofd::sampler
