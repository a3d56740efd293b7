#include "sampler/local_buffers.hpp"

#include <algorithm>
#include <initializer_list>
#include <fmt/format.h>

namespace pyprofd::sampler {
namespace {

constexpr std::size_t pointer = 8;

BufferView view(std::string_view what, std::size_t buffer_size, std::initializer_list<BufferField> fields) {
    BufferView v{what, buffer_size, {}, 0};
    for (const auto& f : fields) v.fields.at(v.field_count++) = f;
    return v;
}

std::optional<LayoutFault> fault_in(const BufferView& v) {
    for (std::size_t i = 0; i < v.field_count; ++i) {
        const auto& f = v.fields[i];
        LayoutFault fault{f.name, f.offset, f.width, v.what, v.buffer_size, false};
        if (f.offset == absent && !f.required) continue;
        if (f.offset < 0) {
            fault.missing = true;
            return fault;
        }
        // Offsets are int32: no sum here can wrap.
        if (static_cast<std::size_t>(f.offset) + f.width > v.buffer_size) return fault;
    }
    // Every field ends within the buffer, so the span does, from the start or from
    // the first field on.
    return std::nullopt;
}

}  // namespace

std::size_t BufferView::span() const {
    std::size_t end = 0;
    for (std::size_t i = 0; i < field_count; ++i)
        if (fields[i].offset >= 0) end = std::max(end, static_cast<std::size_t>(fields[i].offset) + fields[i].width);
    return end;
}

Offset BufferView::first_byte() const {
    Offset first = absent;
    for (std::size_t i = 0; i < field_count; ++i)
        if (fields[i].offset >= 0 && (first == absent || fields[i].offset < first)) first = fields[i].offset;
    return first;
}

BufferView frame_object_view(const Layout& l) {
    return view("a frame", frame_buffer_size,
                {{"object.ob_type", l.object.ob_type, pointer},
                 {"frame_object.back", l.frame_object.back, pointer},
                 {"frame_object.code", l.frame_object.code, pointer},
                 {"frame_object.lasti", l.frame_object.lasti, sizeof(std::int32_t)}});
}

BufferView interpreter_frame_view(const Layout& l) {
    return view("a frame", frame_buffer_size,
                {{"interpreter_frame.code", l.interpreter_frame.code, pointer},
                 {"interpreter_frame.previous", l.interpreter_frame.previous, pointer},
                 {"interpreter_frame.instr_ptr", l.interpreter_frame.instr_ptr, pointer},
                 {"interpreter_frame.owner", l.interpreter_frame.owner, 1, false}});
}

BufferView thread_state_view(const Layout& l) {
    return view("a thread state", thread_state_buffer_size,
                {{"thread.next", l.thread.next, pointer},
                 {"thread.interp", l.thread.interp, pointer},
                 {"thread.frame", l.thread.frame, pointer},
                 {"thread.thread_id", l.thread.thread_id, sizeof(std::uint64_t)},
                 {"thread.native_thread_id", l.thread.native_thread_id, sizeof(std::uint64_t), false}});
}

BufferView str_header_view(const Layout& l) {
    return view("a str", str_buffer_size,
                {{"object.ob_type", l.object.ob_type, pointer},
                 {"unicode.length", l.unicode.length, sizeof(std::int64_t)},
                 {"unicode.state", l.unicode.state, sizeof(std::uint32_t)},
                 {"unicode.ascii_data", l.unicode.ascii_data, 0},
                 {"unicode.compact_data", l.unicode.compact_data, 0}});
}

BufferView bytes_header_view(const Layout& l) {
    return view("the header of a bytes object", bytes_header_buffer_size,
                {{"object.ob_type", l.object.ob_type, pointer},
                 {"bytes.ob_size", l.bytes.ob_size, sizeof(std::int64_t)},
                 {"bytes.data", l.bytes.data, 0}});
}

BufferView int_view(const Layout& l) {
    return view("an int", int_buffer_size,
                {{"object.ob_type", l.object.ob_type, pointer},
                 {"integer.size", l.integer.size, sizeof(std::int64_t)},
                 {"integer.digits", l.integer.digits, max_int_digits * sizeof(std::uint32_t)}});
}

BufferView code_header_view(const Layout& l) {
    return view("a code object", code_header_buffer_size,
                {{"object.ob_type", l.object.ob_type, pointer},
                 {"code.filename", l.code.filename, pointer},
                 {"code.name", l.code.name, pointer},
                 {"code.qualname", l.code.qualname, pointer, false},
                 {"code.firstlineno", l.code.firstlineno, sizeof(std::int32_t)},
                 {"code.linetable", l.code.linetable, pointer}});
}

std::optional<LayoutFault> find_layout_fault(const Layout& l) {
    std::optional<LayoutFault> fault =
        l.frames == FrameModel::frame_objects ? fault_in(frame_object_view(l)) : fault_in(interpreter_frame_view(l));
    if (!fault) fault = fault_in(thread_state_view(l));
    if (!fault && l.strings == StringModel::unicode_pep393) fault = fault_in(str_header_view(l));
    if (!fault) fault = fault_in(bytes_header_view(l));
    if (!fault) fault = fault_in(int_view(l));
    if (!fault) fault = fault_in(code_header_view(l));
    return fault;
}

Error describe_layout_fault(const LayoutFault& fault, std::string_view source) {
    if (fault.missing)
        return {ErrorKind::bad_data, fmt::format("{} has no offset for {}, which pyprofd reads of {}: a bug in pyprofd",
                                                 source, fault.field, fault.buffer_what)};
    return {ErrorKind::bad_data,
            fmt::format("{} puts {} ({} bytes) at {}, past the {} bytes pyprofd reads of {}: a bug in pyprofd", source,
                        fault.field, fault.width, fault.offset, fault.buffer_size, fault.buffer_what)};
}

}  // namespace pyprofd::sampler
