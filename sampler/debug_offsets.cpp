#include "sampler/debug_offsets.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#include <vector>
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

namespace {

std::unexpected<Error> untrusted(std::string what) {
    return fail(ErrorKind::bad_data,
                fmt::format("the target's _Py_DebugOffsets {}: not a CPython pyprofd can trust", what));
}

// A field taken from the table: where it goes in the layout, and how many bytes of it
// are read (0: where something starts, such as a str's characters).
struct FromTable {
    std::string_view layout_name;  // as in local_buffers.hpp
    std::string_view table_name;   // as CPython names it
    std::uint64_t offset;
    std::uint64_t section_size;    // the struct it is a field of
    std::size_t width;
    Offset* into;
};

struct Section {
    std::string_view name;
    std::uint64_t size;
};

constexpr std::size_t pointer = 8;

// The layout from one shape's table. The fields pyprofd takes have the same names in
// every shape; those only some shapes carry are taken where the table has them, and
// stay as the built-in row has them elsewhere.
template <class Table>
Result<Layout> layout_from_table(const Table& d, Layout layout) {
    const auto& rs = d.runtime_state;
    const auto& is = d.interpreter_state;
    const auto& ts = d.thread_state;
    const auto& fr = d.interpreter_frame;
    const auto& co = d.code_object;
    const auto& ob = d.pyobject;
    const auto& ty = d.type_object;
    const auto& di = d.dict_object;
    const auto& lo = d.long_object;
    const auto& by = d.bytes_object;
    const auto& un = d.unicode_object;

    // The structs whose fields we take, by their reported sizes. (3.14's llist_node
    // and debugger_support have no size; nothing is taken from them.)
    std::vector<Section> sections = {
        {"runtime_state", rs.size},   {"interpreter_state", is.size}, {"thread_state", ts.size},
        {"interpreter_frame", fr.size}, {"code_object", co.size},     {"pyobject", ob.size},
        {"type_object", ty.size},     {"dict_object", di.size},       {"long_object", lo.size},
        {"bytes_object", by.size},    {"unicode_object", un.size}};
    if constexpr (requires { d.heap_type_object; })
        sections.push_back({"heap_type_object", d.heap_type_object.size});
    for (auto section : sections)
        if (section.size == 0 || section.size > max_debug_offsets_section_size)
            return untrusted(fmt::format("says {} is {} bytes long", section.name, section.size));

    // The GIL fields come as offsets in the interpreter of its own _gil; we follow
    // ceval.gil (the GIL in use) and need them relative to the GIL's struct.
    if (is.gil_runtime_state_locked < is.gil_runtime_state || is.gil_runtime_state_holder < is.gil_runtime_state)
        return untrusted(fmt::format("puts the GIL's fields at {} and {}, before the GIL itself at {}",
                                     is.gil_runtime_state_locked, is.gil_runtime_state_holder, is.gil_runtime_state));

    std::vector<FromTable> fields = {
        {"runtime.interpreters_head", "runtime_state.interpreters_head", rs.interpreters_head, rs.size, pointer,
         &layout.runtime.interpreters_head},
        {"interpreter.next", "interpreter_state.next", is.next, is.size, pointer, &layout.interpreter.next},
        {"interpreter.threads_head", "interpreter_state.threads_head", is.threads_head, is.size, pointer,
         &layout.interpreter.threads_head},
        {"interpreter.modules", "interpreter_state.imports_modules", is.imports_modules, is.size, pointer,
         &layout.interpreter.modules},
        {"interpreter.ceval_gil", "interpreter_state.ceval_gil", is.ceval_gil, is.size, pointer,
         &layout.interpreter.ceval_gil},
        {"gil_state.locked", "interpreter_state.gil_runtime_state_locked",
         is.gil_runtime_state_locked - is.gil_runtime_state, is.size, sizeof(std::int32_t), &layout.gil_state.locked},
        {"gil_state.last_holder", "interpreter_state.gil_runtime_state_holder",
         is.gil_runtime_state_holder - is.gil_runtime_state, is.size, pointer, &layout.gil_state.last_holder},
        {"thread.next", "thread_state.next", ts.next, ts.size, pointer, &layout.thread.next},
        {"thread.interp", "thread_state.interp", ts.interp, ts.size, pointer, &layout.thread.interp},
        {"thread.frame", "thread_state.current_frame", ts.current_frame, ts.size, pointer, &layout.thread.frame},
        {"thread.thread_id", "thread_state.thread_id", ts.thread_id, ts.size, pointer, &layout.thread.thread_id},
        {"thread.native_thread_id", "thread_state.native_thread_id", ts.native_thread_id, ts.size, pointer,
         &layout.thread.native_thread_id},
        {"thread.datastack_chunk", "thread_state.datastack_chunk", ts.datastack_chunk, ts.size, pointer,
         &layout.thread.datastack_chunk},
        {"interpreter_frame.code", "interpreter_frame.executable", fr.executable, fr.size, pointer,
         &layout.interpreter_frame.code},
        {"interpreter_frame.previous", "interpreter_frame.previous", fr.previous, fr.size, pointer,
         &layout.interpreter_frame.previous},
        {"interpreter_frame.instr_ptr", "interpreter_frame.instr_ptr", fr.instr_ptr, fr.size, pointer,
         &layout.interpreter_frame.instr_ptr},
        {"interpreter_frame.owner", "interpreter_frame.owner", fr.owner, fr.size, 1, &layout.interpreter_frame.owner},
        {"code.filename", "code_object.filename", co.filename, co.size, pointer, &layout.code.filename},
        {"code.name", "code_object.name", co.name, co.size, pointer, &layout.code.name},
        {"code.qualname", "code_object.qualname", co.qualname, co.size, pointer, &layout.code.qualname},
        {"code.linetable", "code_object.linetable", co.linetable, co.size, pointer, &layout.code.linetable},
        {"code.firstlineno", "code_object.firstlineno", co.firstlineno, co.size, sizeof(std::int32_t),
         &layout.code.firstlineno},
        {"code.code_adaptive", "code_object.co_code_adaptive", co.co_code_adaptive, co.size, 0,
         &layout.code.code_adaptive},
        {"object.ob_type", "pyobject.ob_type", ob.ob_type, ob.size, pointer, &layout.object.ob_type},
        {"type.tp_name", "type_object.tp_name", ty.tp_name, ty.size, pointer, &layout.type.tp_name},
        {"type.tp_flags", "type_object.tp_flags", ty.tp_flags, ty.size, sizeof(std::uint64_t), &layout.type.tp_flags},
        {"dict.keys", "dict_object.ma_keys", di.ma_keys, di.size, pointer, &layout.dict.keys},
        {"dict.values", "dict_object.ma_values", di.ma_values, di.size, pointer, &layout.dict.values},
        {"integer.size", "long_object.lv_tag", lo.lv_tag, lo.size, sizeof(std::uint64_t), &layout.integer.size},
        {"integer.digits", "long_object.ob_digit", lo.ob_digit, lo.size, 0, &layout.integer.digits},
        {"bytes.ob_size", "bytes_object.ob_size", by.ob_size, by.size, sizeof(std::int64_t), &layout.bytes.ob_size},
        {"bytes.data", "bytes_object.ob_sval", by.ob_sval, by.size, 0, &layout.bytes.data},
        {"unicode.state", "unicode_object.state", un.state, un.size, sizeof(std::uint32_t), &layout.unicode.state},
        {"unicode.length", "unicode_object.length", un.length, un.size, sizeof(std::int64_t), &layout.unicode.length},
        {"unicode.ascii_data", "unicode_object.asciiobject_size", un.asciiobject_size, un.size, 0,
         &layout.unicode.ascii_data},
    };
    // 3.14 on: the count of code objects freed, which lets the code cache skip its checks.
    if constexpr (requires { is.code_object_generation; })
        fields.push_back({"interpreter.code_object_generation", "interpreter_state.code_object_generation",
                          is.code_object_generation, is.size, sizeof(std::uint64_t),
                          &layout.interpreter.code_object_generation});
    // 3.15 on: what older tables leave to the built-in row.
    if constexpr (requires { ty.tp_basicsize; }) {
        fields.push_back({"type.tp_basicsize", "type_object.tp_basicsize", ty.tp_basicsize, ty.size,
                          sizeof(std::int64_t), &layout.type.tp_basicsize});
        fields.push_back({"type.tp_dictoffset", "type_object.tp_dictoffset", ty.tp_dictoffset, ty.size,
                          sizeof(std::int64_t), &layout.type.tp_dictoffset});
    }
    if constexpr (requires { d.heap_type_object; })
        fields.push_back({"type.ht_cached_keys", "heap_type_object.ht_cached_keys", d.heap_type_object.ht_cached_keys,
                          d.heap_type_object.size, pointer, &layout.type.ht_cached_keys});
    if constexpr (requires { un.compactunicodeobject_size; })
        fields.push_back({"unicode.compact_data", "unicode_object.compactunicodeobject_size",
                          un.compactunicodeobject_size, un.size, 0, &layout.unicode.compact_data});

    // First, each field must lie inside the struct the table says it belongs to,
    // aligned as a field of its width is: or the table is not what we think.
    for (const auto& f : fields) {
        if (f.offset > f.section_size || f.width > f.section_size - f.offset)
            return untrusted(fmt::format("puts {} ({} bytes) at {}, outside its own struct of {} bytes", f.table_name,
                                         f.width, f.offset, f.section_size));
        if (f.width > 1 && f.offset % f.width != 0)
            return untrusted(fmt::format("puts {} at {}, not aligned as a field of {} bytes is", f.table_name,
                                         f.offset, f.width));
        *f.into = static_cast<Offset>(f.offset);  // at most max_debug_offsets_section_size
    }

    // Then each must fit the local buffer pyprofd reads its struct into.
    if (auto fault = find_layout_fault(layout)) {
        for (const auto& f : fields)
            if (f.layout_name == fault->field)
                return untrusted(fmt::format("puts {} at {}, past the {} bytes pyprofd reads of {}", f.table_name,
                                             fault->offset, fault->buffer_size, fault->buffer_what));
        return std::unexpected(describe_layout_fault(
            *fault, fmt::format("pyprofd's built-in layout of {}.{}", layout.major, layout.minor)));
    }
    return layout;
}

template <class Table>
Result<Layout> layout_from_bytes(std::span<const std::byte> bytes, Layout base) {
    Table table;
    static_assert(std::is_trivially_copyable_v<Table>);
    if (bytes.size() < sizeof table) return fail(ErrorKind::bad_data, "a _Py_DebugOffsets cut short");
    std::memcpy(&table, bytes.data(), sizeof table);
    return layout_from_table(table, base);
}

// The shapes pyprofd reads. A free-threaded build of one of these versions would be a
// row {major, minor, true, sizeof, layout_from_bytes<...>} (the same struct), with its
// own built-in row for what the table lacks.
constexpr DebugOffsetsShape shapes[] = {
    {3, 13, false, sizeof(DebugOffsets313), &layout_from_bytes<DebugOffsets313>},
    {3, 14, false, sizeof(DebugOffsets314), &layout_from_bytes<DebugOffsets314>},
    {3, 15, false, sizeof(DebugOffsets315), &layout_from_bytes<DebugOffsets315>},
};

constexpr std::size_t largest_shape = std::max({sizeof(DebugOffsets313), sizeof(DebugOffsets314),
                                                sizeof(DebugOffsets315)});

Result<const DebugOffsetsShape*> shape_of(const DebugOffsetsHeader& header) {
    if (auto shape = debug_offsets_shape(header.major(), header.minor(), header.free_threaded)) return shape;
    return fail(ErrorKind::unsupported_version,
                fmt::format("the _Py_DebugOffsets of {}Python {}.{} are not known to this pyprofd",
                            header.free_threaded ? "free-threaded " : "", header.major(), header.minor()));
}

}  // namespace

std::span<const DebugOffsetsShape> debug_offsets_shapes() { return shapes; }

const DebugOffsetsShape* debug_offsets_shape(int major, int minor, bool free_threaded) {
    for (const auto& shape : shapes)
        if (shape.major == major && shape.minor == minor && shape.free_threaded == free_threaded) return &shape;
    return nullptr;
}

Result<Layout> layout_from_debug_offsets(const RemoteMemory& memory, RemoteAddress runtime,
                                         const DebugOffsetsHeader& header, Layout base) {
    auto shape = shape_of(header);
    if (!shape) return std::unexpected(shape.error());
    std::array<std::byte, largest_shape> bytes{};
    auto table = std::span(bytes).first((*shape)->size);
    if (auto ok = memory.read(runtime, table); !ok) return std::unexpected(ok.error());
    return (*shape)->to_layout(table, base);
}

Result<Layout> layout_from_debug_offsets(std::span<const std::byte> table, Layout base) {
    struct {
        char cookie[8];
        std::uint64_t version;
        std::uint64_t free_threaded;
    } head{};
    if (table.size() < sizeof head || std::memcmp(table.data(), cookie, sizeof cookie) != 0)
        return fail(ErrorKind::bad_data, "no _Py_DebugOffsets cookie");
    std::memcpy(&head, table.data(), sizeof head);
    auto shape = shape_of({head.version, head.free_threaded != 0});
    if (!shape) return std::unexpected(shape.error());
    if (table.size() < (*shape)->size) return fail(ErrorKind::bad_data, "a _Py_DebugOffsets cut short");
    return (*shape)->to_layout(table.first((*shape)->size), base);
}

}  // namespace pyprofd::sampler
