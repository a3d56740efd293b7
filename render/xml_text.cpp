#include "render/xml_text.hpp"

namespace pyprofd::render {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at text[i], or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char c = byte(i);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    if (n == 2 && c < 0xC2) return 0;                                 // overlong
    if (n == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;          // overlong
    if (n == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;         // surrogates
    if (n == 4 && (c > 0xF4 || (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90))) return 0;
    return n;
}

}  // namespace

void append_xml_escaped(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        char c = text[i];
        switch (c) {
            case '&': out += "&amp;"; ++i; continue;
            case '<': out += "&lt;"; ++i; continue;
            case '>': out += "&gt;"; ++i; continue;
            case '"': out += "&quot;"; ++i; continue;
            case '\'': out += "&apos;"; ++i; continue;
            default: break;
        }
        auto n = utf8_sequence(text, i);
        if (n == 0 || (n == 1 && static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n')) {
            out += replacement;
            ++i;
            continue;
        }
        out.append(text.substr(i, n));
        i += n;
    }
}

std::string xml_escaped(std::string_view text) {
    std::string out;
    append_xml_escaped(out, text);
    return out;
}

}  // namespace pyprofd::render
