#pragma once
// Reading values out of bytes pyprofd already holds (a local buffer copied from the
// target, a file mapped into memory), and the address of a remote struct's field.
// One set of helpers for the whole sampler: a value is copied out with memcpy,
// never read through a cast pointer, so a field at any alignment is read without
// undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "sampler/layout.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

// The value at `bytes`. The caller knows that sizeof(T) bytes are there: a local
// buffer's fields are checked against its size once, at attach (local_buffers).
template <class T>
T load(const std::byte* bytes) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}

// The field at `offset` of a struct copied into `block`.
template <class T>
T load(const std::byte* block, Offset offset) {
    return load<T>(block + offset);
}

template <class T>
T load(std::span<const std::byte> block, std::size_t offset) {
    return load<T>(block.data() + offset);
}

// The value at `offset` of bytes that nothing has checked yet (a file whose owner
// may have written any numbers in it): false, and `out` untouched, where it does
// not fit.
template <class T>
bool read_at(std::span<const std::byte> bytes, std::uint64_t offset, T& out) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

// The first `size` bytes (at most 8) at `offset`, as an unsigned number of the
// target's (little-endian) byte order: fields of different widths compared alike.
inline std::uint64_t load_unsigned(std::span<const std::byte> block, std::size_t offset, std::size_t size) {
    std::uint64_t value = 0;
    std::memcpy(&value, block.data() + offset, size < sizeof value ? size : sizeof value);
    return value;
}

// Where the field at `offset` of the remote struct at `base` is.
inline RemoteAddress field_address(RemoteAddress base, Offset offset) {
    return base + static_cast<RemoteAddress>(offset);
}

}  // namespace pyprofd::sampler
