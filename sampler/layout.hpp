#pragma once
// What the frame walker needs to know about one CPython ABI family: the offsets of
// the fields it reads and the formats of the things it decodes. The walker has no
// version numbers in it; everything that differs between versions is here.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <string_view>

namespace pyprofd::sampler {

// A byte offset inside a remote struct, or absent where the version has no such field.
using Offset = std::int32_t;
inline constexpr Offset absent = -1;

enum class FrameModel {
    frame_objects,       // PyThreadState.frame -> PyFrameObject.f_back chain (<= 3.10)
    interpreter_frames,  // _PyInterpreterFrame.previous chain on the data stack (>= 3.11)
};

enum class ThreadFrameAccess {
    direct,        // the thread state points at the innermost frame
    through_cframe // the thread state points at a _PyCFrame that points at it (3.11, 3.12)
};

enum class LineTableFormat {
    lnotab_unsigned,  // co_lnotab, unsigned line deltas (2.7)
    lnotab_signed,    // co_lnotab, signed line deltas (3.6 - 3.9)
    linetable_310,    // co_linetable of 3.10: (bytecode delta, line delta) pairs
    locations_311,    // co_linetable of 3.11+: the location table
};

enum class InstructionPointer {
    lasti_bytes,        // PyFrameObject.f_lasti, a byte offset (<= 3.9)
    lasti_code_units,   // PyFrameObject.f_lasti, an index in 16-bit code units (3.10)
    pointer_into_code,  // a pointer into the code object's inline bytecode (>= 3.11)
};

enum class StringModel {
    bytes_py2,       // names are PyStringObject (2.7)
    unicode_pep393,  // names are compact PEP 393 unicode objects (3.3+)
};

enum class DictModel {
    open_addressing_py27,  // ma_mask, ma_table of (hash, key, value)
    compact_py36,          // PyDictKeysObject with dk_size (3.6 - 3.10)
    compact_py311,         // PyDictKeysObject with dk_log2_size and dk_kind (3.11+)
};

enum class InstanceDictModel {
    dict_offset,             // the type's tp_dictoffset says where the __dict__ pointer is
    managed_py311,           // dict at obj-3 words, values at obj-4 words (3.11)
    managed_tagged_py312,    // obj-3 words holds a dict or (tagged) a values pointer (3.12)
    inline_values_py313,     // values inline after the object header, dict at obj-3 words (3.13)
    inline_values_py314,     // values inline at obj + the type's tp_basicsize, dict at obj-3 words (3.14+)
};

// How an _PyInterpreterFrame points at its code object.
enum class CodeReference {
    object_pointer,  // a PyObject* (f_code, f_executable up to 3.13)
    stack_ref,       // a _PyStackRef (3.14+): the pointer with tag bits in its low two bits
};

enum class IntModel {
    py2_int,       // thread idents are PyIntObject (2.7)
    long_ob_size,  // PyLongObject with the digit count in ob_size (<= 3.11)
    long_lv_tag,   // PyLongObject with lv_tag (3.12+)
};

enum class GilModel {
    current_thread_symbol,  // the exported _PyThreadState_Current (2.7, 3.6)
    runtime_tstate_current, // _PyRuntime.gilstate.tstate_current (3.7 - 3.11)
    interpreter_gil,        // interp->ceval.gil -> {locked, last_holder} (3.12+)
};

struct Layout {
    int major = 0;
    int minor = 0;

    FrameModel frames = FrameModel::frame_objects;
    ThreadFrameAccess frame_access = ThreadFrameAccess::direct;
    LineTableFormat line_table = LineTableFormat::lnotab_signed;
    InstructionPointer instruction_pointer = InstructionPointer::lasti_bytes;
    StringModel strings = StringModel::unicode_pep393;
    DictModel dicts = DictModel::compact_py36;
    InstanceDictModel instance_dicts = InstanceDictModel::dict_offset;
    IntModel ints = IntModel::long_ob_size;
    GilModel gil = GilModel::runtime_tstate_current;
    CodeReference frame_code = CodeReference::object_pointer;
    // A build without the GIL (Py_GIL_DISABLED): its objects, strings and bytecode are
    // laid out otherwise, so it is a row of its own (none yet: pyprofd refuses them).
    bool free_threaded = false;

    // The attribute of threading.Thread that holds its name.
    std::string_view thread_name_attribute = "_name";

    struct {
        Offset interpreters_head = absent;  // _PyRuntimeState.interpreters.head (3.7+)
        Offset tstate_current = absent;     // _PyRuntimeState.gilstate.tstate_current
    } runtime;

    struct {
        Offset next = absent;
        Offset threads_head = absent;
        Offset modules = absent;  // sys.modules (3.12+: imports.modules)
        Offset ceval_gil = absent;  // pointer to struct _gil_runtime_state (3.12+)
        // A count the interpreter adds to whenever it frees a code object (3.14+,
        // _code_object_generation): while it stays, cached code objects stay valid.
        Offset code_object_generation = absent;
    } interpreter;

    struct {
        Offset next = absent;
        Offset interp = absent;
        Offset frame = absent;  // frame, cframe or current_frame, see ThreadFrameAccess
        Offset thread_id = absent;         // pthread_t of the thread
        Offset native_thread_id = absent;  // the OS thread id (3.11+)
        Offset datastack_chunk = absent;   // first _PyStackChunk (3.11+)
    } thread;

    struct {
        Offset current_frame = absent;
    } cframe;

    struct {
        Offset back = absent;
        Offset code = absent;
        Offset lasti = absent;
    } frame_object;

    struct {
        Offset code = absent;  // f_code, or f_executable (3.13+), see CodeReference
        Offset previous = absent;
        Offset instr_ptr = absent;  // prev_instr (3.11, 3.12) or instr_ptr (3.13+)
        Offset owner = absent;      // who owns the frame (3.12+), see first_shim_owner
        // Frames whose owner is this value or more hold no Python code and are skipped,
        // wherever they are in the chain: the C stack's entry frames (3.12, 3.13:
        // FRAME_OWNED_BY_CSTACK = 3), the interpreter's shims (3.14+:
        // FRAME_OWNED_BY_INTERPRETER = 3, 3.14's CSTACK = 4) and 3.15's base frame at
        // the bottom of every thread. -1: the version has no owner field.
        int first_shim_owner = -1;
    } interpreter_frame;

    struct {
        Offset filename = absent;
        Offset name = absent;
        Offset qualname = absent;  // 3.11+
        Offset firstlineno = absent;
        Offset linetable = absent;  // co_lnotab or co_linetable
        Offset code_adaptive = absent;  // the inline bytecode (3.11+)
    } code;

    struct {
        Offset locked = absent;
        Offset last_holder = absent;
    } gil_state;  // struct _gil_runtime_state

    struct {
        Offset ob_type = absent;
    } object;

    struct {
        Offset tp_name = absent;
        Offset tp_basicsize = absent;
        Offset tp_flags = absent;
        Offset tp_dictoffset = absent;
        Offset ht_cached_keys = absent;  // PyHeapTypeObject's shared keys of instance dicts
    } type;

    struct {
        Offset ob_size = absent;
        Offset data = absent;
    } bytes;  // PyBytesObject (3.x) or PyStringObject (2.7)

    struct {
        Offset length = absent;
        Offset state = absent;
        Offset ascii_data = absent;    // sizeof(PyASCIIObject)
        Offset compact_data = absent;  // sizeof(PyCompactUnicodeObject)
    } unicode;

    struct {
        Offset used = absent;
        Offset keys = absent;    // ma_keys (3.6+)
        Offset values = absent;  // ma_values (3.6+)
        Offset mask = absent;    // ma_mask (2.7)
        Offset table = absent;   // ma_table (2.7)
    } dict;

    struct {
        Offset size = absent;             // dk_size (3.6 - 3.10) or dk_log2_size (3.11+)
        Offset log2_index_bytes = absent; // 3.11+
        Offset kind = absent;             // 3.11+
        Offset nentries = absent;
        Offset indices = absent;
    } dict_keys;

    struct {
        Offset values = absent;  // offset of the values array in a split dict's values
    } dict_values;

    struct {
        Offset md_dict = absent;
    } module;

    struct {
        Offset size = absent;    // ob_size (<= 3.11) or lv_tag (3.12+); ob_ival for 2.7 ints
        Offset digits = absent;
    } integer;

    // Calls visit(name, offset) for every offset field, named "thread.next" etc.
    // The layout test uses it to compare every field with the real headers.
    void for_each_offset(const std::function<void(std::string_view, Offset)>& visit) const;
};

// The built-in layout of a CPython major.minor (its free-threaded build where asked),
// or nullopt if there is none. From 3.14 on a row holds only what the target's own
// _Py_DebugOffsets does not carry (debug_offsets.hpp): its other offsets are absent.
std::optional<Layout> builtin_layout(int major, int minor, bool free_threaded = false);

// The families with a built-in layout of their GIL build, oldest first, as (major, minor).
std::span<const std::pair<int, int>> builtin_layout_versions();

}  // namespace pyprofd::sampler
