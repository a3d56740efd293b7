#include "sampler/debug_offsets.hpp"

#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {
namespace {

constexpr char cookie[8] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};

}  // namespace

Result<std::optional<DebugOffsetsHeader>> read_debug_offsets_header(const RemoteMemory& memory,
                                                                    RemoteAddress runtime) {
    struct {
        char cookie[8];
        std::uint64_t version;
        std::uint64_t free_threaded;
    } head{};
    auto raw = memory.read<decltype(head)>(runtime);
    if (!raw) return std::unexpected(raw.error());
    if (std::memcmp(raw->cookie, cookie, sizeof cookie) != 0) return std::nullopt;
    return DebugOffsetsHeader{raw->version, raw->free_threaded != 0};
}

Result<Layout> layout_from_debug_offsets(const RemoteMemory& memory, RemoteAddress runtime,
                                         const DebugOffsetsHeader& header, Layout layout) {
    int major = static_cast<int>((header.version >> 24) & 0xff);
    int minor = static_cast<int>((header.version >> 16) & 0xff);
    if (major != 3 || minor != 13)
        return fail(ErrorKind::unsupported_version,
                    fmt::format("the _Py_DebugOffsets of Python {}.{} are not known to this pyprofd", major, minor));
    auto d = memory.read<DebugOffsets313>(runtime);
    if (!d) return std::unexpected(d.error());

    // Every offset must lie inside the struct it belongs to, or the table is not what we think.
    bool sane = true;
    auto within = [&](std::uint64_t offset, std::uint64_t size) -> Offset {
        if (offset >= size || size > (1u << 20)) sane = false;
        return static_cast<Offset>(offset);
    };
    const auto& is = d->interpreter_state;
    const auto& ts = d->thread_state;
    const auto& fr = d->interpreter_frame;
    const auto& co = d->code_object;

    layout.runtime.interpreters_head = within(d->runtime_state.interpreters_head, d->runtime_state.size);
    layout.interpreter.next = within(is.next, is.size);
    layout.interpreter.threads_head = within(is.threads_head, is.size);
    layout.interpreter.modules = within(is.imports_modules, is.size);
    layout.interpreter.ceval_gil = within(is.ceval_gil, is.size);
    // The table gives the GIL fields inside the interpreter's own _gil; we follow
    // ceval.gil (the GIL in use) and need them relative to the GIL struct.
    layout.gil_state.locked = within(is.gil_runtime_state_locked - is.gil_runtime_state, is.size);
    layout.gil_state.last_holder = within(is.gil_runtime_state_holder - is.gil_runtime_state, is.size);
    layout.thread.next = within(ts.next, ts.size);
    layout.thread.interp = within(ts.interp, ts.size);
    layout.thread.frame = within(ts.current_frame, ts.size);
    layout.thread.thread_id = within(ts.thread_id, ts.size);
    layout.thread.native_thread_id = within(ts.native_thread_id, ts.size);
    layout.thread.datastack_chunk = within(ts.datastack_chunk, ts.size);
    layout.interpreter_frame.code = within(fr.executable, fr.size);
    layout.interpreter_frame.previous = within(fr.previous, fr.size);
    layout.interpreter_frame.instr_ptr = within(fr.instr_ptr, fr.size);
    layout.interpreter_frame.owner = within(fr.owner, fr.size);
    layout.code.filename = within(co.filename, co.size);
    layout.code.name = within(co.name, co.size);
    layout.code.qualname = within(co.qualname, co.size);
    layout.code.linetable = within(co.linetable, co.size);
    layout.code.firstlineno = within(co.firstlineno, co.size);
    layout.code.code_adaptive = within(co.co_code_adaptive, co.size + 1);
    layout.object.ob_type = within(d->pyobject.ob_type, d->pyobject.size);
    layout.type.tp_name = within(d->type_object.tp_name, d->type_object.size);
    layout.type.tp_flags = within(d->type_object.tp_flags, d->type_object.size);
    layout.dict.keys = within(d->dict_object.ma_keys, d->dict_object.size);
    layout.dict.values = within(d->dict_object.ma_values, d->dict_object.size);
    layout.integer.size = within(d->long_object.lv_tag, d->long_object.size);
    layout.integer.digits = within(d->long_object.ob_digit, d->long_object.size + 1);
    layout.bytes.ob_size = within(d->bytes_object.ob_size, d->bytes_object.size);
    layout.bytes.data = within(d->bytes_object.ob_sval, d->bytes_object.size + 1);
    layout.unicode.state = within(d->unicode_object.state, d->unicode_object.size);
    layout.unicode.length = within(d->unicode_object.length, d->unicode_object.size);
    layout.unicode.ascii_data = within(d->unicode_object.asciiobject_size, d->unicode_object.size + 1);
    if (!sane)
        return fail(ErrorKind::bad_data,
                    fmt::format("the _Py_DebugOffsets at {:#x} hold offsets outside their structs", runtime));
    return layout;
}

}  // namespace pyprofd::sampler
