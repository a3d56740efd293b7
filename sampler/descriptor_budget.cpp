#include "sampler/descriptor_budget.hpp"

#include <sys/resource.h>

namespace pyprofd::sampler {

bool DescriptorBudget::try_take() {
    auto held = held_.load(std::memory_order_relaxed);
    do {
        if (held >= cap()) return false;
    } while (!held_.compare_exchange_weak(held, held + 1, std::memory_order_relaxed));
    return true;
}

void DescriptorBudget::give_back() { held_.fetch_sub(1, std::memory_order_relaxed); }

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

}  // namespace pyprofd::sampler
