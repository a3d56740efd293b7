#pragma once
// Decoding each CPython version's table from bytecode offsets to line numbers:
// co_lnotab (2.7 - 3.9), the 3.10 co_linetable, and the 3.11+ location table.
// A code object's table is decoded once into ranges; each sample then costs a
// binary search.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sampler/layout.hpp"

namespace pyprofd::sampler {

struct LineRange {
    std::uint32_t start = 0;  // bytecode byte offsets, [start, end)
    std::uint32_t end = 0;
    int line = -1;            // -1: no line (artificial instructions)
};

class LineTable {
public:
    LineTable() = default;
    LineTable(LineTableFormat format, std::span<const std::byte> table, int first_line);

    // The line of the instruction at byte offset `offset`, or -1 where there is none.
    int line_at(std::uint32_t offset) const;
    const std::vector<LineRange>& ranges() const { return ranges_; }

private:
    std::vector<LineRange> ranges_;
};

}  // namespace pyprofd::sampler
