#pragma once
// Where in a snapshot each page it holds lies: page address → slot. A sample of a
// process with hundreds of threads touches hundreds of pages and looks one up per
// read, so a linear search costs more than the reads it saves; this is an
// open-addressed table that is cleared, not freed, between samples (a warm sample
// allocates nothing).
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <vector>

namespace pyprofd::sampler {

class PageIndex {
public:
    static constexpr std::uint32_t none = UINT32_MAX;

    // Room for `pages` entries with the table at most half full.
    void reserve(std::size_t pages) {
        std::size_t want = 16;
        while (want < 2 * pages) want *= 2;
        if (want <= keys_.size()) return;
        std::vector<std::uint64_t> old_keys(std::move(keys_));
        std::vector<std::uint32_t> old_slots(std::move(slots_));
        keys_.assign(want, empty);
        slots_.assign(want, none);
        used_.clear();
        for (std::size_t i = 0; i < old_keys.size(); ++i)
            if (old_keys[i] != empty) insert(old_keys[i], old_slots[i]);
    }

    // The table keeps the size of the most pages one snapshot ever held (a sample that
    // read every thread's stack, the whole thread list), while most samples use a
    // few: those few slots are emptied, not the whole table (two fills of 2,048 slots a
    // sample were a tenth of a 160-thread sample's instructions).
    void clear() {
        if (used_.empty()) return;
        if (used_.size() * 8 < keys_.size())
            for (auto i : used_) keys_[i] = empty;
        else
            std::fill(keys_.begin(), keys_.end(), empty);
        used_.clear();
    }

    std::size_t size() const { return used_.size(); }

    // The slot of `page`, or none.
    std::uint32_t find(std::uint64_t page) const {
        if (keys_.empty()) return none;
        const std::size_t mask = keys_.size() - 1;
        for (std::size_t i = bucket(page) & mask;; i = (i + 1) & mask) {
            if (keys_[i] == page) return slots_[i];
            if (keys_[i] == empty) return none;
        }
    }

    // Adds page at slot; the caller has reserved room and checked it is not there.
    void insert(std::uint64_t page, std::uint32_t slot) {
        if (2 * (size() + 1) > keys_.size()) reserve(size() + 1);
        const std::size_t mask = keys_.size() - 1;
        std::size_t i = bucket(page) & mask;
        while (keys_[i] != empty) i = (i + 1) & mask;
        keys_[i] = page;
        slots_[i] = slot;
        used_.push_back(static_cast<std::uint32_t>(i));
    }

private:
    // Page addresses are multiples of 4096 and no page is at address 1.
    static constexpr std::uint64_t empty = 1;
    // Pages of one thread lie side by side: mix the bits so neighbours spread.
    static std::size_t bucket(std::uint64_t page) {
        return static_cast<std::size_t>(((page >> 12) * 0x9E3779B97F4A7C15ull) >> 20);
    }

    std::vector<std::uint64_t> keys_;
    std::vector<std::uint32_t> slots_;
    std::vector<std::uint32_t> used_;  // the slots holding a key, in order of insertion: size() of them
};

}  // namespace pyprofd::sampler
