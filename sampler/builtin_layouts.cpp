// The built-in layouts: one row per CPython ABI family (x86-64 and other LP64 targets,
// default non-debug, GIL builds). tests/sampler/layout_test checks every number
// here against offsetof() compiled from each installed version's own headers.
// Numbers it cannot check (structs private to a .c file in that version) are marked.
#include "sampler/layout.hpp"

#include <algorithm>
#include <array>

namespace pyprofd::sampler {
namespace {

constexpr Layout py27{
    .major = 2, .minor = 7,
    .frames = FrameModel::frame_objects,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::lnotab_unsigned,
    .instruction_pointer = InstructionPointer::lasti_bytes,
    .strings = StringModel::bytes_py2,
    .dicts = DictModel::open_addressing_py27,
    .instance_dicts = InstanceDictModel::dict_offset,
    .ints = IntModel::py2_int,
    .gil = GilModel::current_thread_symbol,
    .thread_name_attribute = "_Thread__name",
    .runtime = {},
    .interpreter = {.next = 0, .threads_head = 8, .modules = 16},
    .thread = {.next = 0, .interp = 8, .frame = 16, .thread_id = 144},
    .cframe = {},
    .frame_object = {.back = 24, .code = 32, .lasti = 120},
    .interpreter_frame = {},
    .code = {.filename = 80, .name = 88, .firstlineno = 96, .linetable = 104},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288},
    .bytes = {.ob_size = 16, .data = 36},
    .unicode = {},
    .dict = {.used = 24, .mask = 32, .table = 40},
    .dict_keys = {},
    .dict_values = {},
    .module = {.md_dict = 16},  // PyModuleObject is private to moduleobject.c: unchecked
    .integer = {.size = 16, .digits = 24},  // PyIntObject.ob_ival, where PyLongObject has ob_size
};

// 3.6 - 3.10 share PyDictKeysObject {dk_refcnt, dk_size, dk_lookup, dk_usable,
// dk_nentries, dk_indices}, private to Objects/dict-common.h: unchecked by headers,
// checked by reading real thread names in the integration tests.
constexpr decltype(Layout::dict_keys) dict_keys_py36 = {.size = 8, .nentries = 32, .indices = 40};

constexpr Layout py36{
    .major = 3, .minor = 6,
    .frames = FrameModel::frame_objects,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::lnotab_signed,
    .instruction_pointer = InstructionPointer::lasti_bytes,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py36,
    .instance_dicts = InstanceDictModel::dict_offset,
    .ints = IntModel::long_ob_size,
    .gil = GilModel::current_thread_symbol,
    .thread_name_attribute = "_name",
    .runtime = {},
    .interpreter = {.next = 0, .threads_head = 8, .modules = 16},
    .thread = {.next = 8, .interp = 16, .frame = 24, .thread_id = 152},
    .cframe = {},
    .frame_object = {.back = 24, .code = 32, .lasti = 120},
    .interpreter_frame = {},
    .code = {.filename = 96, .name = 104, .firstlineno = 36, .linetable = 112},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 856},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py36,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},  // private to moduleobject.c before 3.10: unchecked
    .integer = {.size = 16, .digits = 24},
};

constexpr Layout py37{
    .major = 3, .minor = 7,
    .frames = FrameModel::frame_objects,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::lnotab_signed,
    .instruction_pointer = InstructionPointer::lasti_bytes,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py36,
    .instance_dicts = InstanceDictModel::dict_offset,
    .ints = IntModel::long_ob_size,
    .gil = GilModel::runtime_tstate_current,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 24, .tstate_current = 1480},
    .interpreter = {.next = 0, .threads_head = 8, .modules = 40},
    .thread = {.next = 8, .interp = 16, .frame = 24, .thread_id = 176},
    .cframe = {},
    .frame_object = {.back = 24, .code = 32, .lasti = 104},
    .interpreter_frame = {},
    .code = {.filename = 96, .name = 104, .firstlineno = 36, .linetable = 112},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 856},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py36,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

constexpr Layout py38{
    .major = 3, .minor = 8,
    .frames = FrameModel::frame_objects,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::lnotab_signed,
    .instruction_pointer = InstructionPointer::lasti_bytes,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py36,
    .instance_dicts = InstanceDictModel::dict_offset,
    .ints = IntModel::long_ob_size,
    .gil = GilModel::runtime_tstate_current,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 32, .tstate_current = 1368},
    .interpreter = {.next = 0, .threads_head = 8, .modules = 56},
    .thread = {.next = 8, .interp = 16, .frame = 24, .thread_id = 176},
    .cframe = {},
    .frame_object = {.back = 24, .code = 32, .lasti = 104},
    .interpreter_frame = {},
    .code = {.filename = 104, .name = 112, .firstlineno = 40, .linetable = 120},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 872},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py36,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

constexpr Layout py39{
    .major = 3, .minor = 9,
    .frames = FrameModel::frame_objects,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::lnotab_signed,
    .instruction_pointer = InstructionPointer::lasti_bytes,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py36,
    .instance_dicts = InstanceDictModel::dict_offset,
    .ints = IntModel::long_ob_size,
    .gil = GilModel::runtime_tstate_current,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 32, .tstate_current = 568},
    .interpreter = {.next = 0, .threads_head = 8, .modules = 856},
    .thread = {.next = 8, .interp = 16, .frame = 24, .thread_id = 176},
    .cframe = {},
    .frame_object = {.back = 24, .code = 32, .lasti = 104},
    .interpreter_frame = {},
    .code = {.filename = 104, .name = 112, .firstlineno = 40, .linetable = 120},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 864},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py36,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

constexpr Layout py310{
    .major = 3, .minor = 10,
    .frames = FrameModel::frame_objects,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::linetable_310,
    .instruction_pointer = InstructionPointer::lasti_code_units,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py36,
    .instance_dicts = InstanceDictModel::dict_offset,
    .ints = IntModel::long_ob_size,
    .gil = GilModel::runtime_tstate_current,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 32, .tstate_current = 568},
    .interpreter = {.next = 0, .threads_head = 8, .modules = 856},
    .thread = {.next = 8, .interp = 16, .frame = 24, .thread_id = 176},
    .cframe = {},
    .frame_object = {.back = 24, .code = 32, .lasti = 96},
    .interpreter_frame = {},
    .code = {.filename = 104, .name = 112, .firstlineno = 40, .linetable = 120},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 872},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py36,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

constexpr decltype(Layout::dict_keys) dict_keys_py311 = {
    .size = 8, .log2_index_bytes = 9, .kind = 10, .nentries = 24, .indices = 32};

constexpr Layout py311{
    .major = 3, .minor = 11,
    .frames = FrameModel::interpreter_frames,
    .frame_access = ThreadFrameAccess::through_cframe,
    .line_table = LineTableFormat::locations_311,
    .instruction_pointer = InstructionPointer::pointer_into_code,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py311,
    .instance_dicts = InstanceDictModel::managed_py311,
    .ints = IntModel::long_ob_size,
    .gil = GilModel::runtime_tstate_current,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 40, .tstate_current = 576},
    .interpreter = {.next = 0, .threads_head = 16, .modules = 888},
    .thread = {.next = 8, .interp = 16, .frame = 56, .thread_id = 152, .native_thread_id = 160, .datastack_chunk = 296},
    .cframe = {.current_frame = 8},
    .frame_object = {},
    .interpreter_frame = {.code = 32, .previous = 48, .instr_ptr = 56},
    .code = {.filename = 112, .name = 120, .qualname = 128, .firstlineno = 72, .linetable = 136, .code_adaptive = 184},
    .gil_state = {},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 872},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py311,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

constexpr Layout py312{
    .major = 3, .minor = 12,
    .frames = FrameModel::interpreter_frames,
    .frame_access = ThreadFrameAccess::through_cframe,
    .line_table = LineTableFormat::locations_311,
    .instruction_pointer = InstructionPointer::pointer_into_code,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py311,
    .instance_dicts = InstanceDictModel::managed_tagged_py312,
    .ints = IntModel::long_lv_tag,
    .gil = GilModel::interpreter_gil,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 40},
    .interpreter = {.next = 0, .threads_head = 72, .modules = 944, .ceval_gil = 384},
    .thread = {.next = 8, .interp = 16, .frame = 56, .thread_id = 136, .native_thread_id = 144, .datastack_chunk = 232},
    .cframe = {.current_frame = 0},
    .frame_object = {},
    .interpreter_frame = {.code = 0, .previous = 8, .instr_ptr = 56, .owner = 70, .first_shim_owner = 3},
    .code = {.filename = 112, .name = 120, .qualname = 128, .firstlineno = 68, .linetable = 136, .code_adaptive = 192},
    .gil_state = {.locked = 16, .last_holder = 8},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 880},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 40, .compact_data = 56},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py311,
    .dict_values = {.values = 0},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

// 3.13 targets carry _Py_DebugOffsets, preferred over this row where present.
constexpr Layout py313{
    .major = 3, .minor = 13,
    .frames = FrameModel::interpreter_frames,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::locations_311,
    .instruction_pointer = InstructionPointer::pointer_into_code,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py311,
    .instance_dicts = InstanceDictModel::inline_values_py313,
    .ints = IntModel::long_lv_tag,
    .gil = GilModel::interpreter_gil,
    .thread_name_attribute = "_name",
    .runtime = {.interpreters_head = 632},
    .interpreter = {.next = 7264, .threads_head = 7344, .modules = 7656, .ceval_gil = 16},
    .thread = {.next = 8, .interp = 16, .frame = 72, .thread_id = 152, .native_thread_id = 160, .datastack_chunk = 232},
    .cframe = {},
    .frame_object = {},
    .interpreter_frame = {.code = 0, .previous = 8, .instr_ptr = 56, .owner = 70, .first_shim_owner = 3},
    .code = {.filename = 112, .name = 120, .qualname = 128, .firstlineno = 68, .linetable = 136, .code_adaptive = 200},
    .gil_state = {.locked = 16, .last_holder = 8},
    .object = {.ob_type = 8},
    .type = {.tp_name = 24, .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288, .ht_cached_keys = 880},
    .bytes = {.ob_size = 16, .data = 32},
    .unicode = {.length = 16, .state = 32, .ascii_data = 40, .compact_data = 56},
    .dict = {.used = 16, .keys = 32, .values = 40},
    .dict_keys = dict_keys_py311,
    .dict_values = {.values = 8},
    .module = {.md_dict = 16},
    .integer = {.size = 16, .digits = 24},
};

// From 3.14 on, a row is what the target's _Py_DebugOffsets does not carry: the
// models, and the offsets of structs the table leaves out (dict keys, modules, ...).
// Every offset the table carries is absent here and comes from the target
// (sampler/debug_offsets.cpp); tests/sampler/layout_test checks the two together
// against the version's headers.
constexpr Layout py314{
    .major = 3, .minor = 14,
    .frames = FrameModel::interpreter_frames,
    .frame_access = ThreadFrameAccess::direct,
    .line_table = LineTableFormat::locations_311,
    .instruction_pointer = InstructionPointer::pointer_into_code,
    .strings = StringModel::unicode_pep393,
    .dicts = DictModel::compact_py311,
    .instance_dicts = InstanceDictModel::inline_values_py314,
    .ints = IntModel::long_lv_tag,
    .gil = GilModel::interpreter_gil,
    .frame_code = CodeReference::stack_ref,
    .thread_name_attribute = "_name",
    .runtime = {},
    .interpreter = {},
    .thread = {},
    .cframe = {},
    .frame_object = {},
    .interpreter_frame = {.first_shim_owner = 3},
    .code = {},
    .gil_state = {},
    .object = {},
    .type = {.tp_basicsize = 32, .tp_dictoffset = 288, .ht_cached_keys = 880},
    .bytes = {},
    .unicode = {.compact_data = 56},
    .dict = {.used = 16},
    .dict_keys = dict_keys_py311,
    .dict_values = {.values = 8},
    .module = {.md_dict = 16},
    .integer = {},
};

// 3.15's table carries the type's basic size, dict offset and cached keys, and where
// a non-ASCII str's characters start, too.
constexpr Layout py315 = [] {
    Layout l = py314;
    l.minor = 15;
    l.type = {};
    l.unicode = {};
    return l;
}();

constexpr std::array builtin = {py27, py36, py37, py38, py39, py310, py311, py312, py313, py314, py315};

// A free-threaded row, when there is one, is not a family of its own in `versions`.
static_assert(std::ranges::none_of(builtin, &Layout::free_threaded), "versions must then skip free-threaded rows");

constexpr auto versions = [] {
    std::array<std::pair<int, int>, builtin.size()> out{};
    for (std::size_t i = 0; i < builtin.size(); ++i) out[i] = {builtin[i].major, builtin[i].minor};
    return out;
}();

}  // namespace

std::optional<Layout> builtin_layout(int major, int minor, bool free_threaded) {
    for (const auto& layout : builtin)
        if (layout.major == major && layout.minor == minor && layout.free_threaded == free_threaded) return layout;
    return std::nullopt;
}

std::span<const std::pair<int, int>> builtin_layout_versions() { return versions; }

}  // namespace pyprofd::sampler
