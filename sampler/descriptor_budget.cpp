#include "sampler/descriptor_budget.hpp"

#include <sys/resource.h>

#include <fmt/format.h>

namespace pyprofd::sampler {

bool DescriptorBudget::try_take(std::size_t count) {
    auto held = held_.load(std::memory_order_relaxed);
    do {
        if (held + count > cap()) return false;
    } while (!held_.compare_exchange_weak(held, held + count, std::memory_order_relaxed));
    return true;
}

void DescriptorBudget::give_back(std::size_t count) { held_.fetch_sub(count, std::memory_order_relaxed); }

std::optional<DescriptorGrant> DescriptorGrant::take(DescriptorBudget& budget, std::size_t count) {
    if (!budget.try_take(count)) return std::nullopt;
    return DescriptorGrant(budget, count);
}

DescriptorGrant& DescriptorGrant::operator=(DescriptorGrant&& other) noexcept {
    if (this != &other) {
        release();
        budget_ = std::exchange(other.budget_, nullptr);
        count_ = std::exchange(other.count_, 0);
    }
    return *this;
}

void DescriptorGrant::release() {
    if (budget_ && count_) budget_->give_back(count_);
    budget_ = nullptr;
    count_ = 0;
}

namespace {

std::size_t quarter_of_soft_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 256;
    if (limit.rlim_cur == RLIM_INFINITY) return 1 << 16;
    return static_cast<std::size_t>(limit.rlim_cur / 4);
}

}  // namespace

DescriptorBudget& thread_file_budget() {
    static DescriptorBudget budget(quarter_of_soft_descriptor_limit());
    return budget;
}

DescriptorBudget& process_descriptor_budget() {
    static DescriptorBudget budget(quarter_of_soft_descriptor_limit());
    return budget;
}

std::expected<DescriptorGrant, std::string> take_process_descriptors(std::size_t needed) {
    auto grant = DescriptorGrant::take(process_descriptor_budget(), needed);
    if (!grant) return std::unexpected(process_descriptors_taken(needed));
    return std::move(*grant);
}

std::string process_descriptors_taken(std::size_t needed) {
    auto& budget = process_descriptor_budget();
    return fmt::format("the processes pyprofd samples or launched hold {} of the {} descriptors its limit leaves for "
                       "them, and this needs {}: raise the limit (LimitNOFILE=, ulimit -n), or stop a session",
                       budget.held(), budget.cap(), needed);
}

}  // namespace pyprofd::sampler
