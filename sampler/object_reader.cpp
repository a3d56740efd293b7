#include "sampler/object_reader.hpp"

#include <array>
#include <cstring>
#include <fmt/format.h>

#include "sampler/byte_reads.hpp"
#include "sampler/local_buffers.hpp"
#include "sampler/text_encoding.hpp"

namespace pyprofd::sampler {
namespace {

// The header of a PEP 393 string, as far as we need it.
struct UnicodeHeader {
    std::int64_t length = 0;
    int kind = 0;
    bool compact = false;
    bool ascii = false;
};

UnicodeHeader parse_unicode_header(const std::byte* block, const Layout& layout) {
    UnicodeHeader h;
    h.length = load<std::int64_t>(block + layout.unicode.length);
    auto state = load<std::uint32_t>(block + layout.unicode.state);
    h.kind = static_cast<int>((state >> 2) & 7);
    h.compact = (state >> 5) & 1;
    h.ascii = (state >> 6) & 1;
    return h;
}

}  // namespace

ObjectReader::ObjectReader(const RemoteMemory& memory, const Layout& layout, const PythonTypes& types)
    : memory_(memory),
      layout_(layout),
      types_(types),
      str_header_span_(str_header_view(layout).span()),
      bytes_header_span_(bytes_header_view(layout).span()),
      int_span_(int_view(layout).span()) {}

Result<RemoteAddress> ObjectReader::type_of(RemoteAddress object) const {
    return memory_.read<RemoteAddress>(field_address(object, layout_.object.ob_type));
}

Result<std::string> ObjectReader::read_str(RemoteAddress object, std::size_t max_chars) const {
    if (layout_.strings == StringModel::bytes_py2) {
        auto bytes = read_bytes(object, max_chars);
        if (!bytes) return std::unexpected(bytes.error());
        return sanitize_utf8(*bytes);
    }
    // One read for the header and, for most names, the characters too.
    std::array<std::byte, str_buffer_size> block{};
    std::size_t have = block.size();  // bytes of block that hold what the target holds
    auto ok = memory_.read(object, block);
    if (!ok) {
        // The object may sit at the end of a mapping: read just its header.
        have = str_header_span_;
        ok = memory_.read(object, std::span(block).first(have));
    }
    if (!ok) return std::unexpected(ok.error());

    if (load<RemoteAddress>(block.data() + layout_.object.ob_type) != types_.str)
        return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not a str", object));
    auto h = parse_unicode_header(block.data(), layout_);
    if (!h.compact || (h.kind != 1 && h.kind != 2 && h.kind != 4) || h.length < 0 ||
        (h.ascii && h.kind != 1))
        return fail(ErrorKind::bad_data, fmt::format("str at {:#x} has an implausible header", object));
    if (static_cast<std::size_t>(h.length) > max_chars)
        return fail(ErrorKind::bad_data,
                    fmt::format("str at {:#x} says it has {} characters, more than the {} believed", object, h.length,
                                max_chars));

    auto data_offset = static_cast<std::size_t>(h.ascii ? layout_.unicode.ascii_data : layout_.unicode.compact_data);
    std::size_t size = static_cast<std::size_t>(h.length) * static_cast<std::size_t>(h.kind);
    if (h.ascii && data_offset + size <= have) {
        const std::byte* data = block.data() + data_offset;
        // ASCII data read in the first block: validate (no NUL, 7-bit) and take it as is.
        std::string out(reinterpret_cast<const char*>(data), size);
        for (char c : out)
            if (static_cast<unsigned char>(c) >= 0x80 || c == '\0')
                return fail(ErrorKind::bad_data, fmt::format("str at {:#x} is not ASCII", object));
        return out;
    }
    if (size == 0) return std::string();  // an empty vector's data() may be null, which memcpy must not get
    std::vector<std::byte> data(size);
    if (data_offset + size <= have) {
        std::memcpy(data.data(), block.data() + data_offset, size);
    } else if (auto r = memory_.read(object + data_offset, data); !r) {
        return std::unexpected(r.error());
    }
    return utf8_from_code_units(data, h.kind);
}

Result<bool> ObjectReader::str_equals(RemoteAddress object, std::string_view ascii) const {
    auto s = read_str(object, ascii.size() + 1);
    if (!s) {
        if (s.error().kind == ErrorKind::bad_data) return false;  // longer, or not a str
        return std::unexpected(s.error());
    }
    return *s == ascii;
}

Result<std::vector<std::byte>> ObjectReader::read_bytes(RemoteAddress object, std::size_t max_size) const {
    const auto data_offset = static_cast<std::size_t>(layout_.bytes.data);
    std::array<std::byte, bytes_header_buffer_size> header{};
    if (auto ok = memory_.read(object, std::span(header).first(bytes_header_span_)); !ok)
        return std::unexpected(ok.error());
    if (load<RemoteAddress>(header.data() + layout_.object.ob_type) != types_.bytes)
        return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not bytes", object));
    auto size = load<std::int64_t>(header.data() + layout_.bytes.ob_size);
    if (size < 0)
        return fail(ErrorKind::bad_data, fmt::format("bytes at {:#x} has an implausible size {}", object, size));
    if (static_cast<std::size_t>(size) > max_size)
        return fail(ErrorKind::bad_data, fmt::format("bytes at {:#x} says it holds {} bytes, more than the {} believed",
                                                     object, size, max_size));
    std::vector<std::byte> data(static_cast<std::size_t>(size));
    if (auto ok = memory_.read(object + data_offset, data); !ok) return std::unexpected(ok.error());
    return data;
}

Result<std::int64_t> ObjectReader::read_int(RemoteAddress object) const {
    std::array<std::byte, int_buffer_size> block{};
    if (auto ok = memory_.read(object, std::span(block).first(int_span_)); !ok) return std::unexpected(ok.error());
    auto type = load<RemoteAddress>(block.data() + layout_.object.ob_type);
    if (layout_.ints == IntModel::py2_int && type == types_.integer)
        return load<std::int64_t>(block.data() + layout_.integer.size);
    if (type != types_.long_integer)
        return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not an int", object));

    std::uint64_t ndigits = 0;
    bool negative = false;
    auto size = load<std::uint64_t>(block.data() + layout_.integer.size);
    if (layout_.ints == IntModel::long_lv_tag) {
        ndigits = size >> 3;
        negative = (size & 3) == 2;
    } else {
        // ob_size: the digit count, negated for a negative number (0 - size cannot overflow unsigned).
        negative = static_cast<std::int64_t>(size) < 0;
        ndigits = negative ? 0 - size : size;
    }
    if (ndigits > max_int_digits) return fail(ErrorKind::bad_data, fmt::format("int at {:#x} is too large", object));
    std::uint64_t value = 0;
    for (std::size_t i = ndigits; i-- > 0;) {
        auto digit = load<std::uint32_t>(block.data() + layout_.integer.digits + 4 * i);
        value = (value << 30) | (digit & 0x3fffffff);
    }
    // Modulo 2^64, as the 64-bit values we look for were stored.
    return static_cast<std::int64_t>(negative ? 0 - value : value);
}

}  // namespace pyprofd::sampler
