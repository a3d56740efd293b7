#include "sampler/listed_thread_states.hpp"

#include <algorithm>

namespace pyprofd::sampler {

void ListedThreadStates::remember(std::span<const ThreadStateInfo> walk) {
    // Most walks list the same states in the same order, with the same ids, as the
    // last: then the index by address and which states share ids still hold, and
    // the sort below (a sixth of a 160-thread sample's instructions) is not made again.
    const bool same_states = std::ranges::equal(walk, order_, [](const auto& a, const auto& b) {
        return a.address == b.address && a.interpreter == b.interpreter && a.ident == b.ident;
    });
    order_.assign(walk.begin(), walk.end());
    if (same_states) {
        start_walk();
        return;
    }
    indexed_ = false;
    // States that share their interpreter and ident: a thread starting, whose state
    // still has the ids of the thread that starts it.
    by_ids_.clear();
    for (std::size_t i = 0; i < order_.size(); ++i)
        by_ids_.push_back({{order_[i].interpreter, order_[i].ident}, i});
    std::ranges::sort(by_ids_);
    shares_ids_.assign(order_.size(), false);
    for (std::size_t i = 1; i < by_ids_.size(); ++i)
        if (by_ids_[i].first == by_ids_[i - 1].first) shares_ids_[by_ids_[i].second] = shares_ids_[by_ids_[i - 1].second] = true;
    start_walk();
}

void ListedThreadStates::append_pages(std::vector<RemoteAddress>& out, std::size_t state_bytes) const {
    const RemoteAddress mask = ~static_cast<RemoteAddress>(RemoteMemory::page_size - 1);
    for (const auto& state : order_)
        for (auto page : {state.address & mask, (state.address + state_bytes - 1) & mask})
            if (out.empty() || out.back() != page) out.push_back(page);  // neighbours share pages; the rest are merged later
}

void ListedThreadStates::start_walk() {
    verdicts_.assign(order_.size(), Verdict::unknown);
    met_.assign(order_.size(), false);
    met_twice_ = false;
    cursor_ = 0;
}

void ListedThreadStates::clear() {
    order_.clear();
    shares_ids_.clear();
    verdicts_.clear();
    met_.clear();
    met_twice_ = false;
    index_.clear();
    indexed_ = false;
    cursor_ = 0;
}

std::size_t ListedThreadStates::find(RemoteAddress address) {
    // The list's order holds from sample to sample but for threads that started
    // (at the head) or ended: the cursor finds nearly every state, the index the rest.
    if (cursor_ < order_.size() && order_[cursor_].address == address) return cursor_++;
    if (order_.size() <= few) {  // a short list is searched, not indexed
        for (std::size_t i = 0; i < order_.size(); ++i)
            if (order_[i].address == address) {
                cursor_ = i + 1;
                return i;
            }
        return none;
    }
    if (!indexed_) {
        index_.clear();
        index_.reserve(order_.size());
        for (std::size_t i = 0; i < order_.size(); ++i) index_.emplace(order_[i].address, i);
        indexed_ = true;
    }
    auto it = index_.find(address);
    if (it == index_.end()) return none;
    cursor_ = it->second + 1;
    return it->second;
}

}  // namespace pyprofd::sampler
