#pragma once
// Reads Python objects (str, bytes, int, type) out of the target, checking each
// object's type first: a pointer that raced with the target must not be trusted.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/layout.hpp"
#include "sampler/remote_limits.hpp"
#include "sampler/python_types.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

class ObjectReader {
public:
    // `layout` must have passed find_layout_fault (attach checks it): its fields are
    // read into fixed local buffers without a check per read.
    ObjectReader(const RemoteMemory& memory, const Layout& layout, const PythonTypes& types);

    const RemoteMemory& memory() const { return memory_; }
    const Layout& layout() const { return layout_; }
    const PythonTypes& types() const { return types_; }

    Result<RemoteAddress> read_pointer(RemoteAddress address) const {
        return memory_.read<RemoteAddress>(address);
    }
    Result<RemoteAddress> type_of(RemoteAddress object) const;

    // A str (3.x) or 2.7 str, as UTF-8. Longer than max_chars is bad data.
    Result<std::string> read_str(RemoteAddress object, std::size_t max_chars = max_name_chars) const;
    // Whether a str equals `ascii`, with a single read where possible.
    Result<bool> str_equals(RemoteAddress object, std::string_view ascii) const;
    // The content of a bytes object (2.7: str).
    Result<std::vector<std::byte>> read_bytes(RemoteAddress object, std::size_t max_size = max_line_table_bytes) const;
    // An int (2.7: int or long) that fits in 64 bits.
    Result<std::int64_t> read_int(RemoteAddress object) const;

private:
    const RemoteMemory& memory_;
    const Layout& layout_;
    const PythonTypes& types_;
    // How much of each object's header is read: within its buffer (local_buffers.hpp).
    std::size_t str_header_span_;
    std::size_t bytes_header_span_;
    std::size_t int_span_;
};

}  // namespace pyprofd::sampler
