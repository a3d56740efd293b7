#pragma once
// The fixed-size local buffers that remote structs are copied into, and which
// fields of a Layout each one holds. On 3.13+ the offsets come from the target's
// own _Py_DebugOffsets, which the target can write anything into: a field placed
// past its buffer would make the root daemon read (and trust) bytes outside it.
// So at attach every field is checked, once, against the buffer it will be read
// from (find_layout_fault), and a layout that does not fit is refused; after that
// the hot path uses the offsets without a check per read. The reads take their
// buffer sizes and their spans from here too, so the two cannot drift apart.
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "sampler/error.hpp"
#include "sampler/layout.hpp"

namespace pyprofd::sampler {

inline constexpr std::size_t frame_buffer_size = 256;          // a PyFrameObject or _PyInterpreterFrame
inline constexpr std::size_t thread_state_buffer_size = 512;   // a PyThreadState
inline constexpr std::size_t str_buffer_size = 256;            // a str's header and, mostly, its characters
inline constexpr std::size_t bytes_header_buffer_size = 64;    // a bytes object up to its data
inline constexpr std::size_t int_buffer_size = 48;             // an int of up to max_int_digits digits
inline constexpr std::size_t code_header_buffer_size = 256;    // the fields of a code object the cache reads

// 30-bit digits: three hold any 64-bit value we look for (thread idents).
inline constexpr std::size_t max_int_digits = 3;

// A field a local buffer holds: where it starts and how many bytes of it are read.
// Offsets are `absent` where the version has no such field.
struct BufferField {
    std::string_view name;  // as Layout::for_each_offset names it: "thread.next"
    Offset offset = absent;
    std::size_t width = 0;  // 0: where something starts that is read separately (a str's characters)
    bool required = true;   // false: a field some versions lack (3.12's frame owner)
};

// One local buffer and the fields read into it.
struct BufferView {
    std::string_view what;    // "a frame", for errors
    std::size_t buffer_size;  // the local buffer's size
    std::array<BufferField, 6> fields;
    std::size_t field_count = 0;

    // The bytes from the struct's start (or from first_byte()) up to the end of its
    // last field: what a read copies into the buffer.
    std::size_t span() const;
    // Where the first field starts (the code cache reads its header from there).
    Offset first_byte() const;
};

BufferView frame_object_view(const Layout& layout);       // PyFrameObject (frame_objects)
BufferView interpreter_frame_view(const Layout& layout);  // _PyInterpreterFrame (interpreter_frames)
BufferView thread_state_view(const Layout& layout);
BufferView str_header_view(const Layout& layout);         // PEP 393 str (3.x)
BufferView bytes_header_view(const Layout& layout);
BufferView int_view(const Layout& layout);
BufferView code_header_view(const Layout& layout);        // read from first_byte(), span() - first_byte() long

// A field of a layout that its buffer cannot hold, or that is missing.
struct LayoutFault {
    std::string_view field;
    Offset offset = absent;
    std::size_t width = 0;
    std::string_view buffer_what;
    std::size_t buffer_size = 0;
    bool missing = false;  // required, but absent (or negative)
};

// The first field of `layout` that does not fit the buffer it is read into, of the
// buffers that layout's models use; nullopt when every one fits.
std::optional<LayoutFault> find_layout_fault(const Layout& layout);

// The error that refuses a layout with that fault; `source` says where the layout
// came from ("pyprofd's built-in layout of 3.12").
Error describe_layout_fault(const LayoutFault& fault, std::string_view source);

}  // namespace pyprofd::sampler
