#include "sampler/code_epochs.hpp"

#include <algorithm>

#include "sampler/byte_reads.hpp"

namespace pyprofd::sampler {

std::span<const RemoteMemory::ReadRequest> CodeEpochs::requests(std::span<const RemoteAddress> interpreters) {
    reading_.assign(interpreters.begin(), interpreters.end());
    requests_.clear();
    if (field_ == absent) reading_.clear();
    counts_.assign(reading_.size(), 0);
    for (std::size_t i = 0; i < reading_.size(); ++i)
        requests_.push_back({field_address(reading_[i], field_),
                             std::as_writable_bytes(std::span(counts_).subspan(i, 1))});
    return requests_;
}

std::optional<std::uint64_t> CodeEpochs::epoch_after_read(bool all_read) {
    if (reading_.empty() || !all_read) {
        // No proof now, and none carried over: the next reading starts afresh.
        last_interpreters_.clear();
        last_counts_.clear();
        holding_ = false;
        return std::nullopt;
    }
    holding_ = reading_ == last_interpreters_ && counts_ == last_counts_;
    if (!holding_) {
        ++epoch_;
        last_interpreters_ = reading_;
        last_counts_ = counts_;
    }
    return epoch_;
}

bool CodeEpochs::covers(std::span<const RemoteAddress> interpreters) const {
    return std::ranges::equal(interpreters, reading_);
}

}  // namespace pyprofd::sampler
