#include "sampler/text_encoding.hpp"

#include <cstdint>

#include "sampler/byte_reads.hpp"

namespace pyprofd::sampler {

void append_utf8(std::string& out, char32_t cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string utf8_from_code_units(std::span<const std::byte> data, int kind) {
    std::string out;
    out.reserve(data.size());
    std::size_t unit = kind == 1 ? 1 : kind == 2 ? 2 : 4;
    for (std::size_t i = 0; i + unit <= data.size(); i += unit) {
        char32_t cp = 0;
        if (unit == 1) {
            cp = static_cast<unsigned char>(data[i]);
        } else if (unit == 2) {
            cp = load<std::uint16_t>(data.data() + i);
        } else {
            cp = load<std::uint32_t>(data.data() + i);
        }
        append_utf8(out, cp);
    }
    return out;
}

std::string sanitize_utf8(std::span<const std::byte> data) {
    std::string out;
    out.reserve(data.size());
    std::size_t i = 0;
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(data[k]); };
    while (i < data.size()) {
        unsigned char b = byte(i);
        std::size_t need = b < 0x80 ? 0 : (b >> 5) == 0x6 ? 1 : (b >> 4) == 0xE ? 2 : (b >> 3) == 0x1E ? 3 : 99;
        if (need == 0) {
            out.push_back(static_cast<char>(b));
            ++i;
            continue;
        }
        bool ok = need != 99;
        char32_t cp = 0;
        if (ok) {
            cp = b & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07);
            for (std::size_t k = 1; k <= need; ++k) {
                if (i + k >= data.size() || (byte(i + k) & 0xC0) != 0x80) { ok = false; break; }
                cp = (cp << 6) | (byte(i + k) & 0x3F);
            }
        }
        // Overlong forms are as invalid as broken ones.
        if (ok && ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)))
            ok = false;
        if (!ok) {
            append_utf8(out, 0xFFFD);
            ++i;
            continue;
        }
        append_utf8(out, cp);
        i += need + 1;
    }
    return out;
}

}  // namespace pyprofd::sampler
