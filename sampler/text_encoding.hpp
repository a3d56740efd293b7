#pragma once
// Turning the character data of a remote string into UTF-8, whatever it holds:
// remote memory can be garbage, and garbage must never reach a terminal or a file.
#include <cstddef>
#include <span>
#include <string>

namespace pyprofd::sampler {

// Code units of `kind` bytes each (1: Latin-1, 2: UCS-2, 4: UCS-4), as PEP 393 stores them.
// Invalid code points (surrogates, > U+10FFFF) become U+FFFD.
std::string utf8_from_code_units(std::span<const std::byte> data, int kind);

// Bytes that should be UTF-8 (Python 2 names, file names): invalid sequences
// become U+FFFD, so the result is always valid UTF-8.
std::string sanitize_utf8(std::span<const std::byte> data);

void append_utf8(std::string& out, char32_t cp);

}  // namespace pyprofd::sampler
