#include "render/label_text.hpp"

#include "render/utf8.hpp"

namespace pyprofd::render {
namespace {

// What replaces the code point cp at a valid sequence, or 0 when it is safe.
char32_t replacement_for(char32_t cp) {
    if (cp < 0x20) return 0x2400 + cp;  // Control Pictures: U+240A for a newline
    if (cp == 0x7F) return 0x2421;      // DEL
    if (cp == ';') return 0xFF1B;       // the folded format's frame separator
    if (cp >= 0x80 && cp <= 0x9F) return 0xFFFD;  // C1 controls, NEL among them
    if (cp == 0x2028 || cp == 0x2029) return 0xFFFD;  // line and paragraph separators
    if (cp == 0xFFFE || cp == 0xFFFF) return 0xFFFD;  // not characters in XML
    return 0;
}

}  // namespace

void append_safe_label_text(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F && c != ';') {  // the common case
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        auto n = utf8_sequence(text, i);
        if (n == 0) {
            out += replacement_character;
            ++i;
            continue;
        }
        if (auto replacement = replacement_for(utf8_code_point(text, i, n)))
            append_utf8_code_point(out, replacement);
        else
            out.append(text.substr(i, n));
        i += n;
    }
}

std::string safe_label_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_safe_label_text(out, text);
    return out;
}

bool is_safe_label_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F && c != ';') {
            ++i;
            continue;
        }
        auto n = utf8_sequence(text, i);
        if (n == 0 || replacement_for(utf8_code_point(text, i, n))) return false;
        i += n;
    }
    return true;
}

}  // namespace pyprofd::render
