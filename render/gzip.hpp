#pragma once
// gzip (RFC 1952) of a whole buffer, through zlib.
#include <string>
#include <string_view>

namespace pyprofd::render {

std::string gzip_compressed(std::string_view data);

}  // namespace pyprofd::render
