#pragma once
// CPython 3.13+ carries, at the start of _PyRuntime, a _Py_DebugOffsets table: the
// offsets of the fields an out-of-process reader needs, as the running interpreter
// was compiled. Where present it is preferred over our built-in tables; from 3.14 on
// the built-in rows hold only what it lacks.
#include <cstdint>
#include <cstddef>
#include <optional>
#include <span>

#include "sampler/layout.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

// _Py_DebugOffsets, one mirror per minor version: each minor inserts fields in the
// middle (3.14: interpreter_state.threads_main, 3.15: seven in thread_state), so a
// table is read only with the shape of its own major.minor. Every field is a uint64_t
// offset or size, as in CPython's header; tests/sampler/layout_test checks each
// mirror field by field against that version's own pycore_debug_offsets.h (3.13:
// pycore_runtime.h).

// CPython 3.13 (Include/internal/pycore_runtime.h).
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
static_assert(sizeof(DebugOffsets313) == 584);

// CPython 3.14 (Include/internal/pycore_debug_offsets.h). llist_node and
// debugger_support have no size field.
struct DebugOffsets314 {
    char cookie[8];
    std::uint64_t version;
    std::uint64_t free_threaded;
    struct { std::uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        std::uint64_t size, id, next, threads_head, threads_main, gc, imports_modules, sysdict, builtins, ceval_gil,
            gil_runtime_state, gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder,
            code_object_generation, tlbc_generation;
    } interpreter_state;
    struct {
        std::uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id, datastack_chunk, status;
    } thread_state;
    struct {
        std::uint64_t size, previous, executable, instr_ptr, localsplus, owner, stackpointer, tlbc_index;
    } interpreter_frame;
    struct {
        std::uint64_t size, filename, name, qualname, linetable, firstlineno, argcount, localsplusnames,
            localspluskinds, co_code_adaptive, co_tlbc;
    } code_object;
    struct { std::uint64_t size, ob_type; } pyobject;
    struct { std::uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
    struct { std::uint64_t size, ob_item, ob_size; } tuple_object;
    struct { std::uint64_t size, ob_item, ob_size; } list_object;
    struct { std::uint64_t size, used, table, mask; } set_object;
    struct { std::uint64_t size, ma_keys, ma_values; } dict_object;
    struct { std::uint64_t size, ob_fval; } float_object;
    struct { std::uint64_t size, lv_tag, ob_digit; } long_object;
    struct { std::uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { std::uint64_t size, state, length, asciiobject_size; } unicode_object;
    struct { std::uint64_t size, collecting; } gc;
    struct { std::uint64_t size, gi_name, gi_iframe, gi_frame_state; } gen_object;
    struct { std::uint64_t next, prev; } llist_node;
    struct {
        std::uint64_t eval_breaker, remote_debugger_support, remote_debugging_enabled, debugger_pending_call,
            debugger_script_path, debugger_script_path_size;
    } debugger_support;
};
static_assert(sizeof(DebugOffsets314) == 760);

// CPython 3.15 (Include/internal/pycore_debug_offsets.h): thread_state grew seven
// fields, and the table now carries the type's basic size and dict offset, the heap
// type's cached keys and where a non-ASCII str's characters start.
struct DebugOffsets315 {
    char cookie[8];
    std::uint64_t version;
    std::uint64_t free_threaded;
    struct { std::uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        std::uint64_t size, id, next, threads_head, threads_main, gc, imports_modules, sysdict, builtins, ceval_gil,
            gil_runtime_state, gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder,
            code_object_generation, tlbc_generation;
    } interpreter_state;
    struct {
        std::uint64_t size, prev, next, interp, current_frame, base_frame, last_profiled_frame,
            last_profiled_frame_seq, thread_id, native_thread_id, datastack_chunk, status, holds_gil, gil_requested,
            current_exception, exc_state;
    } thread_state;
    struct { std::uint64_t exc_value; } err_stackitem;
    struct {
        std::uint64_t size, previous, executable, instr_ptr, localsplus, owner, stackpointer, tlbc_index;
    } interpreter_frame;
    struct {
        std::uint64_t size, filename, name, qualname, linetable, firstlineno, argcount, localsplusnames,
            localspluskinds, co_code_adaptive, co_tlbc;
    } code_object;
    struct { std::uint64_t size, ob_type; } pyobject;
    struct { std::uint64_t size, tp_name, tp_repr, tp_flags, tp_basicsize, tp_dictoffset; } type_object;
    struct { std::uint64_t size, ht_cached_keys; } heap_type_object;
    struct { std::uint64_t size, ob_item, ob_size; } tuple_object;
    struct { std::uint64_t size, ob_item, ob_size; } list_object;
    struct { std::uint64_t size, used, table, mask; } set_object;
    struct { std::uint64_t size, ma_keys, ma_values; } dict_object;
    struct { std::uint64_t size, ob_fval; } float_object;
    struct { std::uint64_t size, lv_tag, ob_digit; } long_object;
    struct { std::uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { std::uint64_t size, state, length, asciiobject_size, compactunicodeobject_size; } unicode_object;
    struct { std::uint64_t size, collecting, frame, generation_stats_size, generation_stats; } gc;
    struct { std::uint64_t size, gi_name, gi_iframe, gi_frame_state; } gen_object;
    struct { std::uint64_t next, prev; } llist_node;
    struct {
        std::uint64_t eval_breaker, remote_debugger_support, remote_debugging_enabled, debugger_pending_call,
            debugger_script_path, debugger_script_path_size;
    } debugger_support;
};
static_assert(sizeof(DebugOffsets315) == 888);

// The head every shape starts with: "xdebugpy", PY_VERSION_HEX, free_threaded.
struct DebugOffsetsHeader {
    std::uint64_t version = 0;  // PY_VERSION_HEX
    bool free_threaded = false;

    int major() const { return static_cast<int>((version >> 24) & 0xff); }
    int minor() const { return static_cast<int>((version >> 16) & 0xff); }
};

// One shape of table pyprofd knows: a row per major.minor and build (a free-threaded
// build would be a row of its own: same struct, other layout row and derivations).
struct DebugOffsetsShape {
    int major = 0;
    int minor = 0;
    bool free_threaded = false;
    std::size_t size = 0;  // sizeof the struct: the bytes read of the target
    // The layout from the table's bytes (`size` of them), on top of `base`, every
    // offset checked.
    Result<Layout> (*to_layout)(std::span<const std::byte> table, Layout base) = nullptr;
};

// Every shape known, oldest first.
std::span<const DebugOffsetsShape> debug_offsets_shapes();
// The shape of that version's table, or nullptr.
const DebugOffsetsShape* debug_offsets_shape(int major, int minor, bool free_threaded);

// The header of the table at `runtime`, or nullopt where there is no "xdebugpy" cookie.
Result<std::optional<DebugOffsetsHeader>> read_debug_offsets_header(const RemoteMemory& memory,
                                                                    RemoteAddress runtime);

// A layout built from the target's own table, on top of `base` (the built-in row of
// the same major.minor, for what the table does not cover). Fails as
// unsupported_version for a table of no known shape.
Result<Layout> layout_from_debug_offsets(const RemoteMemory& memory, RemoteAddress runtime,
                                         const DebugOffsetsHeader& header, Layout base);

// The same from a table's bytes, header included (tests: a table compiled from headers).
Result<Layout> layout_from_debug_offsets(std::span<const std::byte> table, Layout base);

}  // namespace pyprofd::sampler
