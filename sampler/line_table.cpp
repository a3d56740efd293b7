#include "sampler/line_table.hpp"

#include <algorithm>
#include <limits>

namespace pyprofd::sampler {
namespace {

constexpr std::uint32_t open_end = std::numeric_limits<std::uint32_t>::max();

std::uint8_t byte_at(std::span<const std::byte> t, std::size_t i) { return static_cast<std::uint8_t>(t[i]); }

// Lines are summed from deltas in 64 bits: a damaged table (or the target's idea of
// one) can go past what an int holds, and a line outside 0..INT_MAX is no line.
int line_number(std::int64_t line) {
    return line < 0 || line > std::numeric_limits<int>::max() ? -1 : static_cast<int>(line);
}

void add(std::vector<LineRange>& out, std::uint32_t start, std::uint32_t end, std::int64_t summed_line) {
    if (end <= start) return;
    const int line = line_number(summed_line);
    if (!out.empty() && out.back().line == line && out.back().end == start) {
        out.back().end = end;  // merge neighbours on one line
        return;
    }
    out.push_back({start, end, line});
}

// co_lnotab: (bytecode delta, line delta) pairs; the line delta is signed from 3.6.
std::vector<LineRange> decode_lnotab(std::span<const std::byte> t, int first_line, bool signed_deltas) {
    std::vector<LineRange> out;
    std::uint32_t start = 0;
    std::int64_t line = first_line;
    for (std::size_t i = 0; i + 1 < t.size(); i += 2) {
        std::uint32_t addr_delta = byte_at(t, i);
        int line_delta = signed_deltas ? static_cast<std::int8_t>(byte_at(t, i + 1)) : byte_at(t, i + 1);
        if (addr_delta != 0) {
            add(out, start, start + addr_delta, line);
            start += addr_delta;
        }
        line += line_delta;
    }
    add(out, start, open_end, line);
    return out;
}

// 3.10: each pair covers `delta` bytes with the accumulated line; -128 means no line.
std::vector<LineRange> decode_linetable_310(std::span<const std::byte> t, int first_line) {
    std::vector<LineRange> out;
    std::uint32_t start = 0;
    std::int64_t line = first_line;
    for (std::size_t i = 0; i + 1 < t.size(); i += 2) {
        std::uint32_t delta = byte_at(t, i);
        auto line_delta = static_cast<std::int8_t>(byte_at(t, i + 1));
        std::int64_t range_line = -1;
        if (line_delta != -128) {
            line += line_delta;
            range_line = line;
        }
        add(out, start, start + delta, range_line);
        start += delta;
    }
    return out;
}

// 3.11+: entries of a header byte (1, code:4, length-1:3) and varint-coded data.
class LocationReader {
public:
    explicit LocationReader(std::span<const std::byte> t) : t_(t) {}
    bool done() const { return pos_ >= t_.size(); }
    std::uint8_t next() { return pos_ < t_.size() ? byte_at(t_, pos_++) : 0; }
    std::uint32_t varint() {
        std::uint8_t b = next();
        std::uint32_t value = b & 63;
        unsigned shift = 6;
        while ((b & 64) && shift < 32 && !done()) {
            b = next();
            value |= static_cast<std::uint32_t>(b & 63) << shift;
            shift += 6;
        }
        return value;
    }
    int svarint() {
        std::uint32_t u = varint();
        return (u & 1) ? -static_cast<int>(u >> 1) : static_cast<int>(u >> 1);
    }
    void skip_to_next_entry() {
        while (pos_ < t_.size() && (byte_at(t_, pos_) & 0x80) == 0) ++pos_;
    }

private:
    std::span<const std::byte> t_;
    std::size_t pos_ = 0;
};

std::vector<LineRange> decode_locations_311(std::span<const std::byte> t, int first_line) {
    enum : int { one_line_0 = 10, one_line_2 = 12, no_column = 13, long_form = 14, no_location = 15 };
    std::vector<LineRange> out;
    LocationReader r(t);
    std::uint32_t start = 0;
    std::int64_t line = first_line;
    while (!r.done()) {
        std::uint8_t header = r.next();
        if ((header & 0x80) == 0) {  // not at an entry: the table is damaged, resynchronise
            r.skip_to_next_entry();
            continue;
        }
        int code = (header >> 3) & 15;
        std::uint32_t length = ((header & 7) + 1) * 2;  // code units of 2 bytes
        std::int64_t range_line = line;
        if (code == no_location) {
            range_line = -1;
        } else if (code == long_form || code == no_column) {
            line += r.svarint();
            range_line = line;
        } else if (code >= one_line_0 && code <= one_line_2) {
            line += code - one_line_0;
            range_line = line;
        }
        r.skip_to_next_entry();  // columns are not needed
        add(out, start, start + length, range_line);
        start += length;
    }
    return out;
}

}  // namespace

LineTable::LineTable(LineTableFormat format, std::span<const std::byte> table, int first_line) {
    switch (format) {
        case LineTableFormat::lnotab_unsigned: ranges_ = decode_lnotab(table, first_line, false); break;
        case LineTableFormat::lnotab_signed: ranges_ = decode_lnotab(table, first_line, true); break;
        case LineTableFormat::linetable_310: ranges_ = decode_linetable_310(table, first_line); break;
        case LineTableFormat::locations_311: ranges_ = decode_locations_311(table, first_line); break;
    }
}

int LineTable::line_at(std::uint32_t offset) const {
    auto it = std::ranges::upper_bound(ranges_, offset, {}, &LineRange::start);
    if (it == ranges_.begin()) return -1;
    --it;
    return offset < it->end ? it->line : -1;
}

}  // namespace pyprofd::sampler
