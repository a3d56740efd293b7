#pragma once
// How many descriptors the sampler may keep open between samples, across every
// process it samples. Descriptors are one process-wide resource (RLIMIT_NOFILE):
// a daemon sampling a few hundred processes, or `record` on a target with more
// threads than the soft limit, would otherwise spend them all on thread files and
// then fail to accept a connection or to write its profile. A file past the budget
// is not lost: it is opened and closed for each reading instead.
#include <atomic>
#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace pyprofd::sampler {

class DescriptorBudget {
public:
    explicit DescriptorBudget(std::size_t cap) : cap_(cap) {}
    DescriptorBudget(const DescriptorBudget&) = delete;
    DescriptorBudget& operator=(const DescriptorBudget&) = delete;

    // `count` descriptors more may be kept, and are counted; false where they would
    // pass the cap (nothing is taken then).
    bool try_take(std::size_t count = 1);
    void give_back(std::size_t count = 1);

    // A lower cap takes nothing back; it holds off new descriptors until enough are
    // given back.
    void set_cap(std::size_t cap) { cap_.store(cap, std::memory_order_relaxed); }
    std::size_t cap() const { return cap_.load(std::memory_order_relaxed); }
    std::size_t held() const { return held_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> cap_;
    std::atomic<std::size_t> held_{0};
};

// Descriptors taken from a budget for as long as it lives (an attached process's):
// given back when it is destroyed. Empty when default-made or moved from.
class DescriptorGrant {
public:
    DescriptorGrant() = default;
    // Takes `count` from `budget`; nullopt where they would pass its cap.
    static std::optional<DescriptorGrant> take(DescriptorBudget& budget, std::size_t count);
    DescriptorGrant(DescriptorGrant&& other) noexcept
        : budget_(std::exchange(other.budget_, nullptr)), count_(std::exchange(other.count_, 0)) {}
    DescriptorGrant& operator=(DescriptorGrant&& other) noexcept;
    DescriptorGrant(const DescriptorGrant&) = delete;
    DescriptorGrant& operator=(const DescriptorGrant&) = delete;
    ~DescriptorGrant() { release(); }

    std::size_t count() const { return count_; }

private:
    DescriptorGrant(DescriptorBudget& budget, std::size_t count) : budget_(&budget), count_(count) {}
    void release();

    DescriptorBudget* budget_ = nullptr;
    std::size_t count_ = 0;
};

// The budget for the thread files this process keeps open (thread_activity.hpp).
// Until something sets its cap, it is a quarter of the soft RLIMIT_NOFILE at the
// first use, which leaves the rest to whatever else the process opens; the daemon
// sets it from what its limit leaves after the connections (descriptor_limit.hpp).
DescriptorBudget& thread_file_budget();

// The budget for what each attached process holds for as long as it is attached
// (PythonProcess::attach takes descriptors_per_attached_process from it, or fails
// with out_of_descriptors): its pidfd, its task directory twice (thread list, thread
// states), the epoll set of its sched-in watches, and two opened for a moment at a
// time (a file read once, by path then by descriptor). Thread files kept open count
// against thread_file_budget() instead. Its default cap is the thread files'
// default; the daemon sets it from its descriptor shares.
DescriptorBudget& process_descriptor_budget();
inline constexpr std::size_t descriptors_per_attached_process = 6;
// What a caller is told when process_descriptor_budget() has no room for `needed` more.
std::string process_descriptors_taken(std::size_t needed);
// `needed` from process_descriptor_budget(), or what the caller is told instead.
std::expected<DescriptorGrant, std::string> take_process_descriptors(std::size_t needed);

}  // namespace pyprofd::sampler
