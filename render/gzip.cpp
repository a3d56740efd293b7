#include "render/gzip.hpp"

#include <zlib.h>

#include <limits>

namespace pyprofd::render {

std::expected<std::string, std::string> gzip_compressed(std::string_view data) {
    if (data.size() > std::numeric_limits<uInt>::max()) return std::unexpected("gzip: more than 4 GiB in one piece");
    z_stream stream{};
    // 15 window bits, +16 for a gzip header and trailer rather than zlib's.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return std::unexpected("zlib: cannot start compressing");
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    int result = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (result != Z_STREAM_END) return std::unexpected("zlib: compressing failed");
    return out;
}

}  // namespace pyprofd::render
