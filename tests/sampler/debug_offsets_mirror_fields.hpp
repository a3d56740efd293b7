#pragma once
// pyprofd's _Py_DebugOffsets mirrors field by field, for layout_test to compare with
// each version's own header.
#include <cstddef>
#include <string_view>
#include <vector>

namespace pyprofd::tests {

struct MirrorField {
    std::string_view name;  // "interpreter_state.threads_head", as in CPython's header
    std::size_t offset;     // offsetof() in pyprofd's mirror
};

struct DebugOffsetsMirror {
    int major;
    int minor;
    std::size_t size;            // sizeof pyprofd's mirror
    std::string_view includes;   // C code that declares _Py_DebugOffsets of that version
    // A C expression of the table as the interpreter initialises it, where the header
    // has one (3.14+: _Py_DebugOffsets_INIT); empty where it does not.
    std::string_view initializer;
    std::vector<MirrorField> fields;  // every field, in order
};

const std::vector<DebugOffsetsMirror>& debug_offsets_mirrors();

}  // namespace pyprofd::tests
