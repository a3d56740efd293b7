#pragma once
// Text made safe for XML (SVG): the five special characters escaped, and what XML
// cannot carry (invalid UTF-8 from another tool's input, control characters)
// replaced by U+FFFD, so a nasty name never breaks the document. U+FFFE and
// U+FFFF are valid UTF-8 but not XML characters: replaced too.
#include <string>
#include <string_view>

namespace pyprofd::render {

void append_xml_escaped(std::string& out, std::string_view text);
std::string xml_escaped(std::string_view text);

}  // namespace pyprofd::render
