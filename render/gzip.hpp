#pragma once
// gzip (RFC 1952) of a whole buffer, through zlib.
#include <expected>
#include <string>
#include <string_view>

namespace pyprofd::render {

// The compressed bytes, or why zlib could not make them (more than 4 GiB in one
// piece, or zlib itself failing).
std::expected<std::string, std::string> gzip_compressed(std::string_view data);

}  // namespace pyprofd::render
