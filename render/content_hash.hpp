#pragma once
// SHA-256 (FIPS 180-4) of a text, written as a Content-Security-Policy hash source
// ('sha256-BASE64'): a server that sends a document can let exactly its own inline
// script or style run and nothing else, also where the text is made at run time
// (a flame graph's style holds its font).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pyprofd::render {

std::array<std::uint8_t, 32> sha256(std::string_view text);

std::string base64(std::string_view bytes);

// "'sha256-BASE64'" of the text, as a CSP source.
std::string csp_hash_source(std::string_view text);

}  // namespace pyprofd::render
