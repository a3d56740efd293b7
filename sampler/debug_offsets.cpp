#include "sampler/debug_offsets.hpp"

#include <cstring>
#include <fmt/format.h>

#include "sampler/local_buffers.hpp"
#include "sampler/remote_limits.hpp"

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
    const auto& rs = d->runtime_state;
    const auto& is = d->interpreter_state;
    const auto& ts = d->thread_state;
    const auto& fr = d->interpreter_frame;
    const auto& co = d->code_object;
    const auto& ob = d->pyobject;
    const auto& ty = d->type_object;
    const auto& di = d->dict_object;
    const auto& lo = d->long_object;
    const auto& by = d->bytes_object;
    const auto& un = d->unicode_object;

    auto untrusted = [](std::string what) {
        return fail(ErrorKind::bad_data,
                    fmt::format("the target's _Py_DebugOffsets {}: not a CPython pyprofd can trust", what));
    };

    // The structs whose fields we take, by their reported sizes.
    struct Section {
        std::string_view name;
        std::uint64_t size;
    };
    for (auto section : {Section{"runtime_state", rs.size}, Section{"interpreter_state", is.size},
                         Section{"thread_state", ts.size}, Section{"interpreter_frame", fr.size},
                         Section{"code_object", co.size}, Section{"pyobject", ob.size}, Section{"type_object", ty.size},
                         Section{"dict_object", di.size}, Section{"long_object", lo.size},
                         Section{"bytes_object", by.size}, Section{"unicode_object", un.size}})
        if (section.size == 0 || section.size > max_debug_offsets_section_size)
            return untrusted(fmt::format("says {} is {} bytes long", section.name, section.size));

    // The GIL fields come as offsets in the interpreter of its own _gil; we follow
    // ceval.gil (the GIL in use) and need them relative to the GIL's struct.
    if (is.gil_runtime_state_locked < is.gil_runtime_state || is.gil_runtime_state_holder < is.gil_runtime_state)
        return untrusted(fmt::format("puts the GIL's fields at {} and {}, before the GIL itself at {}",
                                     is.gil_runtime_state_locked, is.gil_runtime_state_holder, is.gil_runtime_state));

    // Every field taken from the table: where it goes in the layout, and how many
    // bytes of it are read (0: where something starts, such as a str's characters).
    struct FromTable {
        std::string_view layout_name;  // as in local_buffers.hpp
        std::string_view table_name;   // as CPython names it
        std::uint64_t offset;
        std::uint64_t section_size;
        std::size_t width;
        Offset& into;
    };
    constexpr std::size_t pointer = 8;
    const FromTable fields[] = {
        {"runtime.interpreters_head", "runtime_state.interpreters_head", rs.interpreters_head, rs.size, pointer,
         layout.runtime.interpreters_head},
        {"interpreter.next", "interpreter_state.next", is.next, is.size, pointer, layout.interpreter.next},
        {"interpreter.threads_head", "interpreter_state.threads_head", is.threads_head, is.size, pointer,
         layout.interpreter.threads_head},
        {"interpreter.modules", "interpreter_state.imports_modules", is.imports_modules, is.size, pointer,
         layout.interpreter.modules},
        {"interpreter.ceval_gil", "interpreter_state.ceval_gil", is.ceval_gil, is.size, pointer,
         layout.interpreter.ceval_gil},
        {"gil_state.locked", "interpreter_state.gil_runtime_state_locked",
         is.gil_runtime_state_locked - is.gil_runtime_state, is.size, sizeof(std::int32_t), layout.gil_state.locked},
        {"gil_state.last_holder", "interpreter_state.gil_runtime_state_holder",
         is.gil_runtime_state_holder - is.gil_runtime_state, is.size, pointer, layout.gil_state.last_holder},
        {"thread.next", "thread_state.next", ts.next, ts.size, pointer, layout.thread.next},
        {"thread.interp", "thread_state.interp", ts.interp, ts.size, pointer, layout.thread.interp},
        {"thread.frame", "thread_state.current_frame", ts.current_frame, ts.size, pointer, layout.thread.frame},
        {"thread.thread_id", "thread_state.thread_id", ts.thread_id, ts.size, pointer, layout.thread.thread_id},
        {"thread.native_thread_id", "thread_state.native_thread_id", ts.native_thread_id, ts.size, pointer,
         layout.thread.native_thread_id},
        {"thread.datastack_chunk", "thread_state.datastack_chunk", ts.datastack_chunk, ts.size, pointer,
         layout.thread.datastack_chunk},
        {"interpreter_frame.code", "interpreter_frame.executable", fr.executable, fr.size, pointer,
         layout.interpreter_frame.code},
        {"interpreter_frame.previous", "interpreter_frame.previous", fr.previous, fr.size, pointer,
         layout.interpreter_frame.previous},
        {"interpreter_frame.instr_ptr", "interpreter_frame.instr_ptr", fr.instr_ptr, fr.size, pointer,
         layout.interpreter_frame.instr_ptr},
        {"interpreter_frame.owner", "interpreter_frame.owner", fr.owner, fr.size, 1, layout.interpreter_frame.owner},
        {"code.filename", "code_object.filename", co.filename, co.size, pointer, layout.code.filename},
        {"code.name", "code_object.name", co.name, co.size, pointer, layout.code.name},
        {"code.qualname", "code_object.qualname", co.qualname, co.size, pointer, layout.code.qualname},
        {"code.linetable", "code_object.linetable", co.linetable, co.size, pointer, layout.code.linetable},
        {"code.firstlineno", "code_object.firstlineno", co.firstlineno, co.size, sizeof(std::int32_t),
         layout.code.firstlineno},
        {"code.code_adaptive", "code_object.co_code_adaptive", co.co_code_adaptive, co.size, 0,
         layout.code.code_adaptive},
        {"object.ob_type", "pyobject.ob_type", ob.ob_type, ob.size, pointer, layout.object.ob_type},
        {"type.tp_name", "type_object.tp_name", ty.tp_name, ty.size, pointer, layout.type.tp_name},
        {"type.tp_flags", "type_object.tp_flags", ty.tp_flags, ty.size, sizeof(std::uint64_t), layout.type.tp_flags},
        {"dict.keys", "dict_object.ma_keys", di.ma_keys, di.size, pointer, layout.dict.keys},
        {"dict.values", "dict_object.ma_values", di.ma_values, di.size, pointer, layout.dict.values},
        {"integer.size", "long_object.lv_tag", lo.lv_tag, lo.size, sizeof(std::uint64_t), layout.integer.size},
        {"integer.digits", "long_object.ob_digit", lo.ob_digit, lo.size, 0, layout.integer.digits},
        {"bytes.ob_size", "bytes_object.ob_size", by.ob_size, by.size, sizeof(std::int64_t), layout.bytes.ob_size},
        {"bytes.data", "bytes_object.ob_sval", by.ob_sval, by.size, 0, layout.bytes.data},
        {"unicode.state", "unicode_object.state", un.state, un.size, sizeof(std::uint32_t), layout.unicode.state},
        {"unicode.length", "unicode_object.length", un.length, un.size, sizeof(std::int64_t), layout.unicode.length},
        {"unicode.ascii_data", "unicode_object.asciiobject_size", un.asciiobject_size, un.size, 0,
         layout.unicode.ascii_data},
    };

    // First, each field must lie inside the struct the table says it belongs to,
    // aligned as a field of its width is: or the table is not what we think.
    for (const auto& f : fields) {
        if (f.offset > f.section_size || f.width > f.section_size - f.offset)
            return untrusted(fmt::format("puts {} ({} bytes) at {}, outside its own struct of {} bytes", f.table_name,
                                         f.width, f.offset, f.section_size));
        if (f.width > 1 && f.offset % f.width != 0)
            return untrusted(fmt::format("puts {} at {}, not aligned as a field of {} bytes is", f.table_name,
                                         f.offset, f.width));
        f.into = static_cast<Offset>(f.offset);  // at most max_debug_offsets_section_size
    }

    // Then each must fit the local buffer pyprofd reads its struct into.
    if (auto fault = find_layout_fault(layout)) {
        std::string_view name = fault->field;
        bool from_table = false;
        for (const auto& f : fields)
            if (f.layout_name == fault->field) {
                name = f.table_name;
                from_table = true;
            }
        if (!from_table) return std::unexpected(describe_layout_fault(*fault, "pyprofd's built-in layout of 3.13"));
        return untrusted(fmt::format("puts {} at {}, past the {} bytes pyprofd reads of {}", name, fault->offset,
                                     fault->buffer_size, fault->buffer_what));
    }
    return layout;
}

}  // namespace pyprofd::sampler
