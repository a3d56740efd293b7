#pragma once
// How many descriptors the sampler may keep open between samples, across every
// process it samples. Descriptors are one process-wide resource (RLIMIT_NOFILE):
// a daemon sampling a few hundred processes, or `record` on a target with more
// threads than the soft limit, would otherwise spend them all on thread files and
// then fail to accept a connection or to write its profile. A file past the budget
// is not lost: it is opened and closed for each reading instead.
#include <atomic>
#include <cstddef>

namespace pyprofd::sampler {

class DescriptorBudget {
public:
    explicit DescriptorBudget(std::size_t cap) : cap_(cap) {}
    DescriptorBudget(const DescriptorBudget&) = delete;
    DescriptorBudget& operator=(const DescriptorBudget&) = delete;

    // One descriptor more may be kept, and is counted; false at the cap.
    bool try_take();
    void give_back();

    // A lower cap takes nothing back; it holds off new descriptors until enough are
    // given back.
    void set_cap(std::size_t cap) { cap_.store(cap, std::memory_order_relaxed); }
    std::size_t cap() const { return cap_.load(std::memory_order_relaxed); }
    std::size_t held() const { return held_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> cap_;
    std::atomic<std::size_t> held_{0};
};

// The budget for the thread files this process keeps open (thread_activity.hpp).
// Until something sets its cap, it is a quarter of the soft RLIMIT_NOFILE at the
// first use, which leaves the rest to whatever else the process opens; the daemon
// sets it from what its limit leaves after the connections (descriptor_limit.hpp).
DescriptorBudget& thread_file_budget();

}  // namespace pyprofd::sampler
