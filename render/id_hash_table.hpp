#pragma once
// An open-addressing hash table of 32-bit ids whose keys live elsewhere (in the
// profile's node and label arrays): 8 bytes a slot, no allocation per entry, one
// cache line per lookup in the common case. The profile's trie makes one lookup
// per frame of every stack it is given, so this is its hottest structure.
#include <bit>
#include <cstdint>
#include <vector>

namespace pyprofd::render {

class IdHashTable {
public:
    static constexpr std::uint32_t empty = ~0U;

    // The id whose key equals (equals(id) says so), or make() added under hash.
    template <typename Equals, typename Make>
    std::uint32_t find_or_insert(std::uint64_t hash, Equals&& equals, Make&& make) {
        if ((count_ + 1) * 4 > slots_.size() * 3) grow();  // load at most 3/4
        auto tag = static_cast<std::uint32_t>(hash);
        std::size_t mask = slots_.size() - 1;
        for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
            auto& slot = slots_[i];
            if (slot.id == empty) {
                slot = {make(), tag};
                ++count_;
                return slot.id;
            }
            if (slot.tag == tag && equals(slot.id)) return slot.id;
        }
    }

    // The id whose key equals, or empty.
    template <typename Equals>
    std::uint32_t find(std::uint64_t hash, Equals&& equals) const {
        if (slots_.empty()) return empty;
        auto tag = static_cast<std::uint32_t>(hash);
        std::size_t mask = slots_.size() - 1;
        for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
            const auto& slot = slots_[i];
            if (slot.id == empty) return empty;
            if (slot.tag == tag && equals(slot.id)) return slot.id;
        }
    }

private:
    struct Slot {
        std::uint32_t id = empty;
        std::uint32_t tag = 0;  // the low bits of the key's hash: the slot, and a quick first compare
    };

    void grow() {
        std::vector<Slot> old(std::max<std::size_t>(16, slots_.size() * 2));
        old.swap(slots_);
        std::size_t mask = slots_.size() - 1;
        for (const auto& s : old) {
            if (s.id == empty) continue;
            std::size_t i = s.tag & mask;
            while (slots_[i].id != empty) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t count_ = 0;
};

}  // namespace pyprofd::render
