#pragma once
// CPython 3.13+ carries, at the start of _PyRuntime, a _Py_DebugOffsets table: the
// offsets of the fields an out-of-process reader needs, as the running interpreter
// was compiled. Where present it is preferred over our built-in tables.
#include <cstdint>
#include <optional>

#include "sampler/layout.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

struct DebugOffsetsHeader {
    std::uint64_t version = 0;  // PY_VERSION_HEX
    bool free_threaded = false;
};

// The header of the table at `runtime`, or nullopt where there is no "xdebugpy" cookie.
Result<std::optional<DebugOffsetsHeader>> read_debug_offsets_header(const RemoteMemory& memory,
                                                                    RemoteAddress runtime);

// A layout built from the target's own table, on top of `base` (the built-in row of
// the same major.minor, for what the table does not cover).
Result<Layout> layout_from_debug_offsets(const RemoteMemory& memory, RemoteAddress runtime,
                                         const DebugOffsetsHeader& header, Layout base);

}  // namespace pyprofd::sampler
