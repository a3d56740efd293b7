#include "render/xml_text.hpp"

#include "render/utf8.hpp"

namespace pyprofd::render {

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
        // XML's Char: tab, newline, carriage return, U+0020-U+D7FF, U+E000-U+FFFD and
        // beyond; surrogates are not valid UTF-8 in the first place.
        bool forbidden = n == 0 || (n == 1 && static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') ||
                         (n == 3 && static_cast<unsigned char>(c) == 0xEF && static_cast<unsigned char>(text[i + 1]) == 0xBF &&
                          static_cast<unsigned char>(text[i + 2]) >= 0xBE);  // U+FFFE, U+FFFF
        if (forbidden) {
            out += replacement_character;
            i += n == 0 ? 1 : n;
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
