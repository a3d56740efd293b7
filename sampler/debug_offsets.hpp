#pragma once
// CPython 3.13+ carries, at the start of _PyRuntime, a _Py_DebugOffsets table: the
// offsets of the fields an out-of-process reader needs, as the running interpreter
// was compiled. Where present it is preferred over our built-in tables.
#include <cstdint>
#include <optional>

#include "sampler/layout.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

// _Py_DebugOffsets as CPython 3.13 defines it (Include/internal/pycore_runtime.h).
// Its shape is only stable within a minor version: 3.14 gets its own.
struct DebugOffsets313 {
    char cookie[8];
    std::uint64_t version;
    std::uint64_t free_threaded;
    struct { std::uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        std::uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins, ceval_gil,
            gil_runtime_state, gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder;
    } interpreter_state;
    struct {
        std::uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id, datastack_chunk, status;
    } thread_state;
    struct { std::uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
    struct {
        std::uint64_t size, filename, name, qualname, linetable, firstlineno, argcount, localsplusnames,
            localspluskinds, co_code_adaptive;
    } code_object;
    struct { std::uint64_t size, ob_type; } pyobject;
    struct { std::uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
    struct { std::uint64_t size, ob_item, ob_size; } tuple_object;
    struct { std::uint64_t size, ob_item, ob_size; } list_object;
    struct { std::uint64_t size, ma_keys, ma_values; } dict_object;
    struct { std::uint64_t size, ob_fval; } float_object;
    struct { std::uint64_t size, lv_tag, ob_digit; } long_object;
    struct { std::uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { std::uint64_t size, state, length, asciiobject_size; } unicode_object;
    struct { std::uint64_t size, collecting; } gc;
};

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
