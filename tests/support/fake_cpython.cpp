#include "tests/support/fake_cpython.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace pyprofd::tests {
namespace {

using sampler::absent;
using sampler::Layout;
using sampler::Offset;

// The first page holds the interpreter's static data, at these places.
constexpr std::uint64_t py_version_at = fake_image_base + 0x000;
constexpr std::uint64_t interp_head_at = fake_image_base + 0x008;             // 2.7, 3.6
constexpr std::uint64_t current_thread_at = fake_image_base + 0x010;         // 2.7, 3.6
constexpr std::uint64_t none_at = fake_image_base + 0x020;                   // _Py_NoneStruct
constexpr std::uint64_t first_type_at = fake_image_base + 0x100;             // built-in types, 0x40 apart
constexpr std::uint64_t runtime_at = fake_image_base + 0x1000;               // _PyRuntime, one page
constexpr std::uint64_t heap_at = fake_image_base + 0x2000;                  // everything else

constexpr const char* type_names[] = {"PyCode_Type", "PyFrame_Type", "PyUnicode_Type", "PyBytes_Type",
                                      "PyDict_Type", "PyLong_Type",  "PyInt_Type",     "PyString_Type",
                                      "PyModule_Type"};

std::uint64_t type_address(std::string_view name) {
    for (std::size_t i = 0; i < std::size(type_names); ++i)
        if (name == type_names[i]) return first_type_at + 0x40 * i;
    throw std::logic_error("no such type");
}

// _Py_DebugOffsets as the x86-64 build of CPython 3.13.0 (pyenv) carries it, read
// from that interpreter's own _PyRuntime.
constexpr sampler::DebugOffsets313 real_313_debug_offsets = {
    .cookie = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'},
    .version = 0x030d00f0,
    .free_threaded = 0,
    .runtime_state = {.size = 283320, .finalizing = 608, .interpreters_head = 632},
    .interpreter_state = {.size = 194968, .id = 7272, .next = 7264, .threads_head = 7344, .gc = 7400,
                          .imports_modules = 7656, .sysdict = 7640, .builtins = 7648, .ceval_gil = 16,
                          .gil_runtime_state = 7752, .gil_runtime_state_enabled = 0,
                          .gil_runtime_state_locked = 7768, .gil_runtime_state_holder = 7760},
    .thread_state = {.size = 304, .prev = 0, .next = 8, .interp = 16, .current_frame = 72, .thread_id = 152,
                     .native_thread_id = 160, .datastack_chunk = 232, .status = 32},
    .interpreter_frame = {.size = 80, .previous = 8, .executable = 0, .instr_ptr = 56, .localsplus = 72,
                          .owner = 70},
    .code_object = {.size = 208, .filename = 112, .name = 120, .qualname = 128, .linetable = 136,
                    .firstlineno = 68, .argcount = 52, .localsplusnames = 96, .localspluskinds = 104,
                    .co_code_adaptive = 200},
    .pyobject = {.size = 16, .ob_type = 8},
    .type_object = {.size = 416, .tp_name = 24, .tp_repr = 88, .tp_flags = 168},
    .tuple_object = {.size = 32, .ob_item = 24, .ob_size = 16},
    .list_object = {.size = 40, .ob_item = 24, .ob_size = 16},
    .dict_object = {.size = 48, .ma_keys = 32, .ma_values = 40},
    .float_object = {.size = 24, .ob_fval = 16},
    .long_object = {.size = 32, .lv_tag = 16, .ob_digit = 24},
    .bytes_object = {.size = 40, .ob_size = 16, .ob_sval = 32},
    .unicode_object = {.size = 64, .state = 32, .length = 16, .asciiobject_size = 40},
    .gc = {.size = 240, .collecting = 200},
};

// _Py_DebugOffsets of Debian sid's python3.14 3.14.10 and python3.15 3.15.2 (x86-64),
// read from their running interpreters' _PyRuntime.
constexpr sampler::DebugOffsets314 real_314_debug_offsets = {
    .cookie = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'},
    .version = 0x030e0af0,
    .free_threaded = 0,
    .runtime_state = {.size = 316616, .finalizing = 784, .interpreters_head = 808},
    .interpreter_state = {.size = 225864, .id = 7280, .next = 7272, .threads_head = 7344, .threads_main = 7360,
                          .gc = 7408, .imports_modules = 7688, .sysdict = 7672, .builtins = 7680, .ceval_gil = 16,
                          .gil_runtime_state = 7784, .gil_runtime_state_enabled = 0,
                          .gil_runtime_state_locked = 7800, .gil_runtime_state_holder = 7792,
                          .code_object_generation = 7992, .tlbc_generation = 0},
    .thread_state = {.size = 832, .prev = 0, .next = 8, .interp = 16, .current_frame = 72, .thread_id = 152,
                     .native_thread_id = 160, .datastack_chunk = 232, .status = 32},
    .interpreter_frame = {.size = 88, .previous = 8, .executable = 0, .instr_ptr = 56, .localsplus = 80,
                          .owner = 74, .stackpointer = 64, .tlbc_index = 0},
    .code_object = {.size = 216, .filename = 112, .name = 120, .qualname = 128, .linetable = 136,
                    .firstlineno = 68, .argcount = 52, .localsplusnames = 96, .localspluskinds = 104,
                    .co_code_adaptive = 208, .co_tlbc = 0},
    .pyobject = {.size = 16, .ob_type = 8},
    .type_object = {.size = 416, .tp_name = 24, .tp_repr = 88, .tp_flags = 168},
    .tuple_object = {.size = 40, .ob_item = 32, .ob_size = 16},
    .list_object = {.size = 40, .ob_item = 24, .ob_size = 16},
    .set_object = {.size = 200, .used = 24, .table = 40, .mask = 32},
    .dict_object = {.size = 48, .ma_keys = 32, .ma_values = 40},
    .float_object = {.size = 24, .ob_fval = 16},
    .long_object = {.size = 32, .lv_tag = 16, .ob_digit = 24},
    .bytes_object = {.size = 40, .ob_size = 16, .ob_sval = 32},
    .unicode_object = {.size = 64, .state = 32, .length = 16, .asciiobject_size = 40},
    .gc = {.size = 264, .collecting = 192},
    .gen_object = {.size = 160, .gi_name = 24, .gi_iframe = 72, .gi_frame_state = 67},
    .llist_node = {.next = 0, .prev = 8},
    .debugger_support = {.eval_breaker = 24, .remote_debugger_support = 304, .remote_debugging_enabled = 8076,
                         .debugger_pending_call = 0, .debugger_script_path = 4, .debugger_script_path_size = 512},
};

constexpr sampler::DebugOffsets315 real_315_debug_offsets = {
    .cookie = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'},
    .version = 0x030f02f0,
    .free_threaded = 0,
    .runtime_state = {.size = 346568, .finalizing = 912, .interpreters_head = 936},
    .interpreter_state = {.size = 226240, .id = 7272, .next = 7264, .threads_head = 7336, .threads_main = 7352,
                          .gc = 7400, .imports_modules = 7592, .sysdict = 7576, .builtins = 7584, .ceval_gil = 16,
                          .gil_runtime_state = 7736, .gil_runtime_state_enabled = 0,
                          .gil_runtime_state_locked = 7752, .gil_runtime_state_holder = 7744,
                          .code_object_generation = 7944, .tlbc_generation = 0},
    .thread_state = {.size = 888, .prev = 0, .next = 8, .interp = 16, .current_frame = 72, .base_frame = 80,
                     .last_profiled_frame = 88, .last_profiled_frame_seq = 96, .thread_id = 176,
                     .native_thread_id = 184, .datastack_chunk = 256, .status = 32, .holds_gil = 36,
                     .gil_requested = 40, .current_exception = 136, .exc_state = 288},
    .err_stackitem = {.exc_value = 0},
    .interpreter_frame = {.size = 88, .previous = 8, .executable = 0, .instr_ptr = 56, .localsplus = 80,
                          .owner = 74, .stackpointer = 64, .tlbc_index = 0},
    .code_object = {.size = 216, .filename = 112, .name = 120, .qualname = 128, .linetable = 136,
                    .firstlineno = 68, .argcount = 52, .localsplusnames = 96, .localspluskinds = 104,
                    .co_code_adaptive = 208, .co_tlbc = 0},
    .pyobject = {.size = 16, .ob_type = 8},
    .type_object = {.size = 424, .tp_name = 24, .tp_repr = 88, .tp_flags = 168, .tp_basicsize = 32,
                    .tp_dictoffset = 288},
    .heap_type_object = {.size = 944, .ht_cached_keys = 888},
    .tuple_object = {.size = 40, .ob_item = 32, .ob_size = 16},
    .list_object = {.size = 40, .ob_item = 24, .ob_size = 16},
    .set_object = {.size = 200, .used = 24, .table = 40, .mask = 32},
    .dict_object = {.size = 48, .ma_keys = 32, .ma_values = 40},
    .float_object = {.size = 24, .ob_fval = 16},
    .long_object = {.size = 32, .lv_tag = 16, .ob_digit = 24},
    .bytes_object = {.size = 40, .ob_size = 16, .ob_sval = 32},
    .unicode_object = {.size = 64, .state = 32, .length = 16, .asciiobject_size = 40,
                       .compactunicodeobject_size = 56},
    .gc = {.size = 176, .collecting = 112, .frame = 120, .generation_stats_size = 1120, .generation_stats = 104},
    .gen_object = {.size = 160, .gi_name = 24, .gi_iframe = 72, .gi_frame_state = 67},
    .llist_node = {.next = 0, .prev = 8},
    .debugger_support = {.eval_breaker = 24, .remote_debugger_support = 344, .remote_debugging_enabled = 8028,
                         .debugger_pending_call = 0, .debugger_script_path = 4, .debugger_script_path_size = 512},
};

// Where a frame is in its code, in bytes from the first instruction: inside the
// range every line table below gives the frame's line.
constexpr std::int64_t instruction_offset = 4;

std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
        char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
        for (std::size_t k = 1; k < n && i + k < s.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
        out.push_back(cp);
        i += n;
    }
    return out;
}

void append_signed_chunks(std::vector<std::uint8_t>& out, int delta, int low, int high, std::uint8_t address_delta) {
    do {
        int step = std::clamp(delta, low, high);
        out.push_back(address_delta);
        out.push_back(static_cast<std::uint8_t>(static_cast<std::int8_t>(step)));
        delta -= step;
    } while (delta != 0);
}

}  // namespace

std::uint64_t FakeCPython::runtime_address() { return runtime_at; }

sampler::PythonBinary FakeCPython::binary() {
    std::vector<std::pair<std::string, sampler::ElfSymbol>> symbols = {
        {"Py_Version", {py_version_at, 8}},
        {"interp_head", {interp_head_at, 8}},
        {"_PyThreadState_Current", {current_thread_at, 8}},
        {"_PyRuntime", {runtime_at, 0x1000}},
        {"Py_Initialize", {fake_image_base + 0x80, 1}},
    };
    for (auto name : type_names) symbols.push_back({name, {type_address(name), 0x40}});
    sampler::PythonBinary binary;
    binary.path = "/fake/python (built by hand)";
    binary.opened_from = binary.path;
    binary.elf = sampler::ElfFile::from_symbols(symbols);
    return binary;
}

sampler::PythonTypes FakeCPython::types() const {
    const bool py2 = layout_.major == 2;
    sampler::PythonTypes t;
    t.code = type_address("PyCode_Type");
    t.frame = type_address("PyFrame_Type");
    t.str = type_address(py2 ? "PyString_Type" : "PyUnicode_Type");
    t.bytes = type_address(py2 ? "PyString_Type" : "PyBytes_Type");
    t.dict = type_address("PyDict_Type");
    t.integer = type_address(py2 ? "PyInt_Type" : "PyLong_Type");
    t.long_integer = type_address("PyLong_Type");
    t.module = type_address("PyModule_Type");
    return t;
}

std::byte* FakeCPython::at(std::uint64_t address, std::size_t size) {
    if (address < fake_image_base || address - fake_image_base + size > image_.size())
        throw std::out_of_range("outside the fake image");
    return image_.data() + (address - fake_image_base);
}

const std::byte* FakeCPython::at(std::uint64_t address, std::size_t size) const {
    return const_cast<FakeCPython*>(this)->at(address, size);
}

std::shared_ptr<const sampler::AddressSpace> FakeCPython::address_space() const {
    return std::make_shared<sampler::BufferAddressSpace>(fake_image_base, image_);
}

std::uint64_t FakeCPython::allocate(std::size_t size) {
    std::uint64_t address = fake_image_base + image_.size();
    image_.resize(image_.size() + ((size + 15) & ~std::size_t{15}));
    return address;
}

void FakeCPython::put_pointer(std::uint64_t object, Offset offset, std::uint64_t value) { put(object, offset, value); }

std::uint64_t FakeCPython::object(std::size_t size, std::uint64_t type) {
    std::uint64_t address = allocate(size);
    put<std::int64_t>(address, 0, 1);  // ob_refcnt
    put_pointer(address, layout_.object.ob_type, type);
    return address;
}

std::uint64_t FakeCPython::bytes(const std::vector<std::uint8_t>& data) {
    const auto& b = layout_.bytes;
    std::uint64_t address = object(static_cast<std::size_t>(b.data) + data.size() + 1,
                                   type_address(layout_.major == 2 ? "PyString_Type" : "PyBytes_Type"));
    put<std::int64_t>(address, b.ob_size, static_cast<std::int64_t>(data.size()));
    if (!data.empty()) std::memcpy(at(address + static_cast<std::uint64_t>(b.data), data.size()), data.data(), data.size());
    return address;
}

std::uint64_t FakeCPython::str(const std::string& utf8) {
    if (layout_.strings == sampler::StringModel::bytes_py2) return bytes({utf8.begin(), utf8.end()});
    const auto& u = layout_.unicode;
    auto points = decode_utf8(utf8);
    char32_t widest = 0;
    for (auto c : points) widest = std::max(widest, c);
    const bool ascii = widest < 0x80;
    const int kind = widest < 0x100 ? 1 : widest < 0x10000 ? 2 : 4;
    const auto data_at = static_cast<std::size_t>(ascii ? u.ascii_data : u.compact_data);
    std::uint64_t address = object(data_at + (points.size() + 1) * static_cast<std::size_t>(kind),
                                   type_address("PyUnicode_Type"));
    put<std::int64_t>(address, u.length, static_cast<std::int64_t>(points.size()));
    // interned:2, kind:3, compact:1, ascii:1, and before 3.12 ready:1
    std::uint32_t state = static_cast<std::uint32_t>(kind) << 2 | 1u << 5 | (ascii ? 1u : 0u) << 6;
    const bool before_312 = layout_.major < 3 || (layout_.major == 3 && layout_.minor < 12);
    if (before_312) state |= 1u << 7;
    put<std::uint32_t>(address, u.state, state);
    for (std::size_t i = 0; i < points.size(); ++i) {
        std::uint64_t unit = address + data_at + i * static_cast<std::size_t>(kind);
        if (kind == 1) write(unit, static_cast<std::uint8_t>(points[i]));
        if (kind == 2) write(unit, static_cast<std::uint16_t>(points[i]));
        if (kind == 4) write(unit, static_cast<std::uint32_t>(points[i]));
    }
    return address;
}

std::uint64_t FakeCPython::integer(std::uint64_t value) {
    const auto& i = layout_.integer;
    if (layout_.ints == sampler::IntModel::py2_int && value <= 0x7fffffffffffffff) {
        std::uint64_t address = object(24, type_address("PyInt_Type"));
        put<std::int64_t>(address, i.size, static_cast<std::int64_t>(value));
        return address;
    }
    std::vector<std::uint32_t> digits;
    for (std::uint64_t v = value; v != 0; v >>= 30) digits.push_back(static_cast<std::uint32_t>(v & 0x3fffffff));
    std::uint64_t address = object(static_cast<std::size_t>(i.digits) + 4 * std::max<std::size_t>(digits.size(), 1),
                                   type_address("PyLong_Type"));
    if (layout_.ints == sampler::IntModel::long_lv_tag)
        put<std::uint64_t>(address, i.size, digits.size() << 3 | (digits.empty() ? 1 : 0));
    else
        put<std::int64_t>(address, i.size, static_cast<std::int64_t>(digits.size()));
    for (std::size_t d = 0; d < digits.size(); ++d)
        write(address + static_cast<std::uint64_t>(i.digits) + 4 * d, digits[d]);
    return address;
}

std::uint64_t FakeCPython::dict(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& entries, bool str_keys) {
    const auto& d = layout_.dict;
    const auto& k = layout_.dict_keys;
    constexpr std::size_t slots = 8;  // room for the few entries these images hold
    if (entries.size() > slots * 2 / 3) throw std::logic_error("too many entries for a fake dict");
    std::uint64_t address = object(64, type_address("PyDict_Type"));
    put<std::int64_t>(address, d.used, static_cast<std::int64_t>(entries.size()));
    if (layout_.dicts == sampler::DictModel::open_addressing_py27) {
        std::uint64_t table = allocate(slots * 24);
        for (std::size_t e = 0; e < entries.size(); ++e) {
            write(table + e * 24 + 8, entries[e].first);
            write(table + e * 24 + 16, entries[e].second);
        }
        put<std::int64_t>(address, d.mask, slots - 1);
        put_pointer(address, d.table, table);
        return address;
    }
    // A combined table: indices, then the entries in order.
    const bool py311 = layout_.dicts == sampler::DictModel::compact_py311;
    const bool key_value_only = py311 && str_keys;  // 3.11's unicode kind: (key, value) entries
    const std::size_t entry_size = key_value_only ? 16 : 24;
    const std::size_t key_at = key_value_only ? 0 : 8;
    const auto entries_at = static_cast<std::size_t>(k.indices) + slots;  // one byte per index
    std::uint64_t keys = allocate(entries_at + slots * entry_size);
    std::int64_t one = 1;
    write<std::int64_t>(keys, one);  // dk_refcnt
    if (py311) {
        put<std::uint8_t>(keys, k.size, 3);               // log2 of 8 slots
        put<std::uint8_t>(keys, k.log2_index_bytes, 3);   // 8 one-byte indices
        put<std::uint8_t>(keys, k.kind, key_value_only ? 1 : 0);
    } else {
        put<std::int64_t>(keys, k.size, slots);
    }
    put<std::int64_t>(keys, k.nentries, static_cast<std::int64_t>(entries.size()));
    for (std::size_t e = 0; e < slots; ++e)
        write(keys + static_cast<std::uint64_t>(k.indices) + e,
              static_cast<std::int8_t>(e < entries.size() ? static_cast<int>(e) : -1));
    for (std::size_t e = 0; e < entries.size(); ++e) {
        write(keys + entries_at + e * entry_size + key_at, entries[e].first);
        write(keys + entries_at + e * entry_size + key_at + 8, entries[e].second);
    }
    put_pointer(address, d.keys, keys);
    put_pointer(address, d.values, 0);
    return address;
}

std::vector<std::uint8_t> FakeCPython::line_table(int first_line, int line) const {
    const int delta = line - first_line;
    std::vector<std::uint8_t> out;
    switch (layout_.line_table) {
        case sampler::LineTableFormat::lnotab_unsigned:
            // Line deltas only (no bytecode advance): the last, open range holds the line.
            if (delta < 0) throw std::logic_error("2.7's line table cannot go backwards");
            append_signed_chunks(out, delta, 0, 255, 0);
            break;
        case sampler::LineTableFormat::lnotab_signed:
            if (delta != 0) append_signed_chunks(out, delta, -128, 127, 0);
            break;
        case sampler::LineTableFormat::linetable_310:
            // (bytecode delta, line delta) pairs; -128 would mean "no line".
            if (delta != 0) append_signed_chunks(out, delta, -127, 127, 0);
            out.push_back(16);
            out.push_back(0);
            break;
        case sampler::LineTableFormat::locations_311: {
            // One "no column" entry of 8 code units: a line delta, as a signed varint.
            constexpr std::uint8_t no_column = 13, code_units = 8;
            out.push_back(static_cast<std::uint8_t>(0x80 | no_column << 3 | (code_units - 1)));
            std::uint32_t zigzag = delta < 0 ? (static_cast<std::uint32_t>(-delta) << 1) | 1
                                             : static_cast<std::uint32_t>(delta) << 1;
            do {
                auto chunk = static_cast<std::uint8_t>(zigzag & 63);
                zigzag >>= 6;
                out.push_back(zigzag != 0 ? static_cast<std::uint8_t>(chunk | 64) : chunk);
            } while (zigzag != 0);
            break;
        }
    }
    return out;
}

std::uint64_t FakeCPython::code(const FakeFrame& frame) {
    const auto& c = layout_.code;
    Offset end = std::max({c.filename, c.name, c.qualname, c.firstlineno, c.linetable, c.code_adaptive}) + 8;
    // 3.11+ keep the bytecode inline, after the fields: room for the instruction a frame points at.
    std::uint64_t address = object(static_cast<std::size_t>(end) + 64, type_address("PyCode_Type"));
    std::string short_name = frame.function.substr(frame.function.rfind('.') + 1);
    put_pointer(address, c.filename, str(frame.file));
    put_pointer(address, c.name, str(c.qualname != absent ? short_name : frame.function));
    put_pointer(address, c.qualname, c.qualname != absent ? str(frame.function) : 0);
    put<std::int32_t>(address, c.firstlineno, frame.first_line);
    put_pointer(address, c.linetable, bytes(line_table(frame.first_line, frame.line)));
    return address;
}

std::uint64_t FakeCPython::thread_names(const std::vector<FakeThread>& threads,
                                        const std::vector<std::uint64_t>& idents) {
    // A Thread's class: before 3.13 no managed or inline dict, its __dict__ at
    // tp_dictoffset. 3.13+: as the real one, its attributes' values inline in the
    // object (the names in the class's cached keys), the managed dict pointer unset;
    // 3.14+ with a basic size past the header (a subclass with a slot), where the
    // values then start.
    const bool inline_values = layout_.instance_dicts == sampler::InstanceDictModel::inline_values_py313 ||
                               layout_.instance_dicts == sampler::InstanceDictModel::inline_values_py314;
    const std::int64_t basic_size =
        layout_.instance_dicts == sampler::InstanceDictModel::inline_values_py314 ? 32 : 16;
    constexpr std::int64_t dict_offset = 16;
    const auto& ty = layout_.type;
    std::uint64_t thread_class = allocate(static_cast<std::size_t>(std::max({ty.tp_dictoffset, ty.tp_basicsize,
                                                                             ty.ht_cached_keys, ty.tp_flags})) + 8);
    std::uint64_t cached_keys = 0;
    if (inline_values) {
        constexpr std::uint64_t inline_values_flag = 1u << 2, managed_dict_flag = 1u << 4;
        put<std::uint64_t>(thread_class, ty.tp_flags, inline_values_flag | managed_dict_flag);
        put<std::int64_t>(thread_class, ty.tp_basicsize, basic_size);
        put<std::int64_t>(thread_class, ty.tp_dictoffset, -1);
        // A dict of the one key, whose keys object the class shares with its instances.
        std::uint64_t keys_holder = dict({{str(std::string(layout_.thread_name_attribute)), 1}}, true);
        cached_keys = read<std::uint64_t>(keys_holder + static_cast<std::uint64_t>(layout_.dict.keys));
        put_pointer(thread_class, ty.ht_cached_keys, cached_keys);
    } else {
        put<std::uint64_t>(thread_class, ty.tp_flags, 0);
        put<std::int64_t>(thread_class, ty.tp_dictoffset, dict_offset);
    }
    std::vector<std::pair<std::uint64_t, std::uint64_t>> active;
    for (std::size_t t = 0; t < threads.size(); ++t) {
        if (threads[t].name.empty()) continue;
        std::uint64_t name = str(threads[t].name);
        std::uint64_t thread_object = 0;
        if (inline_values) {
            // Three words before the object (the managed dict pointer, unset, among
            // them), then the object, then struct _dictvalues {capacity, size,
            // embedded, valid, values[1]}.
            std::uint64_t block = allocate(24 + static_cast<std::size_t>(basic_size) + 16);
            thread_object = block + 24;
            write<std::int64_t>(thread_object, 1);  // ob_refcnt
            put_pointer(thread_object, layout_.object.ob_type, thread_class);
            std::uint64_t values = thread_object + static_cast<std::uint64_t>(basic_size);
            write<std::uint32_t>(values, 0x01010101);  // capacity 1, size 1, embedded, valid
            write(values + static_cast<std::uint64_t>(layout_.dict_values.values), name);
        } else {
            thread_object = object(32, thread_class);
            std::uint64_t attributes = dict({{str(std::string(layout_.thread_name_attribute)), name}}, true);
            write(thread_object + dict_offset, attributes);
        }
        active.emplace_back(integer(idents[t]), thread_object);
    }
    active_dict_ = dict(active, false);
    std::uint64_t module_dict = dict({{str("_active"), active_dict_}}, true);
    std::uint64_t module = object(static_cast<std::size_t>(layout_.module.md_dict) + 8, type_address("PyModule_Type"));
    put_pointer(module, layout_.module.md_dict, module_dict);
    return dict({{str("threading"), module}}, true);  // sys.modules
}

std::vector<std::byte> FakeCPython::real_debug_offsets(int major, int minor) {
    auto bytes_of = [](const auto& table) {
        std::vector<std::byte> out(sizeof table);
        std::memcpy(out.data(), &table, sizeof table);
        return out;
    };
    if (major == 3 && minor == 13) return bytes_of(real_313_debug_offsets);
    if (major == 3 && minor == 14) return bytes_of(real_314_debug_offsets);
    if (major == 3 && minor == 15) return bytes_of(real_315_debug_offsets);
    return {};
}

Layout FakeCPython::layout_of(int major, int minor) {
    auto builtin = sampler::builtin_layout(major, minor);
    if (!builtin) throw std::invalid_argument("no built-in layout for that version");
    auto table = real_debug_offsets(major, minor);
    if (table.empty()) return *builtin;
    auto layout = sampler::layout_from_debug_offsets(table, *builtin);
    if (!layout) throw std::logic_error("a real table refused: " + layout.error().message);
    return *layout;
}

FakeCPython::FakeCPython(int major, int minor, const std::vector<FakeThread>& threads) {
    layout_ = layout_of(major, minor);
    const Layout& L = layout_;
    image_.resize(heap_at - fake_image_base);
    write<std::uint64_t>(py_version_at, static_cast<std::uint64_t>(major) << 24 | static_cast<std::uint64_t>(minor) << 16 | 0xf0);

    const bool has_runtime = L.runtime.interpreters_head != absent;
    if (auto table = real_debug_offsets(major, minor); has_runtime && !table.empty())
        std::memcpy(at(runtime_at, table.size()), table.data(), table.size());

    interpreter_ = allocate(static_cast<std::size_t>(std::max({L.interpreter.next, L.interpreter.threads_head,
                                                                L.interpreter.modules, L.interpreter.ceval_gil,
                                                                L.interpreter.code_object_generation})) +
                            8);
    if (has_runtime)
        put_pointer(runtime_at, L.runtime.interpreters_head, interpreter_);
    else
        write(interp_head_at, interpreter_);

    // Thread idents are pthread_t values: addresses of descriptors, which before 3.11
    // are where the thread's OS id is found.
    std::vector<std::uint64_t> idents;
    std::vector<pid_t> native_ids;
    for (std::size_t t = 0; t < threads.size(); ++t) {
        pid_t native_id = threads[t].native_id != 0 ? threads[t].native_id : static_cast<pid_t>(1000 + t);
        native_ids.push_back(native_id);
        if (L.thread.native_thread_id == absent) {
            constexpr std::uint64_t glibc_tid_offset = 720;
            std::uint64_t descriptor = allocate(2048);
            write(descriptor + glibc_tid_offset, native_id);
            idents.push_back(descriptor);
        } else {
            idents.push_back(0x7f3a00001000 + 0x801000 * t);
        }
    }

    const auto& ts = L.thread;
    const auto thread_size = static_cast<std::size_t>(
        std::max({ts.next, ts.interp, ts.frame, ts.thread_id, ts.native_thread_id, ts.datastack_chunk}) + 8);
    std::uint64_t previous_thread = 0;
    for (std::size_t t = 0; t < threads.size(); ++t) {
        std::uint64_t thread = allocate(thread_size);
        thread_states_.push_back(thread);
        if (previous_thread != 0)
            put_pointer(previous_thread, ts.next, thread);
        else
            put_pointer(interpreter_, L.interpreter.threads_head, thread);
        previous_thread = thread;
        put_pointer(thread, ts.interp, interpreter_);
        put<std::uint64_t>(thread, ts.thread_id, idents[t]);
        put<std::uint64_t>(thread, ts.native_thread_id, static_cast<std::uint64_t>(native_ids[t]));

        // Frames, outermost first, so that each can point at its caller.
        std::vector<std::uint64_t> frames, codes;
        std::uint64_t caller = 0;
        // 3.12+: frames that hold no Python code, which the walker skips and walks past.
        // 3.14+ point at None with a tag, as real shims do.
        const bool stack_refs = L.frame_code == sampler::CodeReference::stack_ref;
        auto shim = [&](std::uint64_t below) {
            const auto& f = L.interpreter_frame;
            std::uint64_t frame = allocate(static_cast<std::size_t>(std::max({f.code, f.previous, f.owner})) + 8);
            put<std::uint8_t>(frame, f.owner, static_cast<std::uint8_t>(f.first_shim_owner));
            put_pointer(frame, f.previous, below);
            put_pointer(frame, f.code, stack_refs ? none_at + 1 : 0);
            return frame;
        };
        // The entry frame (3.15: the thread's base frame) at the bottom.
        if (L.interpreter_frame.owner != absent) caller = shim(0);
        for (auto it = threads[t].frames.rbegin(); it != threads[t].frames.rend(); ++it) {
            // And one where C code called back into Python, between the two outermost.
            if (L.interpreter_frame.owner != absent && it == threads[t].frames.rbegin() + 1) caller = shim(caller);
            std::uint64_t code_object = code(*it);
            std::uint64_t frame = 0;
            if (L.frames == sampler::FrameModel::frame_objects) {
                const auto& f = L.frame_object;
                frame = object(static_cast<std::size_t>(std::max({f.back, f.code, f.lasti})) + 8, type_address("PyFrame_Type"));
                put_pointer(frame, f.back, caller);
                put_pointer(frame, f.code, code_object);
                const bool units = L.instruction_pointer == sampler::InstructionPointer::lasti_code_units;
                put<std::int32_t>(frame, f.lasti, static_cast<std::int32_t>(units ? instruction_offset / 2 : instruction_offset));
            } else {
                const auto& f = L.interpreter_frame;
                frame = allocate(static_cast<std::size_t>(std::max({f.code, f.previous, f.instr_ptr, f.owner})) + 8);
                // 3.14+: a _PyStackRef, with a tag bit the walker must clear.
                put_pointer(frame, f.code, stack_refs ? code_object | 1 : code_object);
                put_pointer(frame, f.previous, caller);
                put<std::uint64_t>(frame, f.instr_ptr,
                                   code_object + static_cast<std::uint64_t>(L.code.code_adaptive + instruction_offset));
                put<std::uint8_t>(frame, f.owner, 0);  // owned by the thread
            }
            frames.push_back(frame);
            codes.push_back(code_object);
            caller = frame;
        }
        std::reverse(frames.begin(), frames.end());  // innermost first, as a sample has them
        std::reverse(codes.begin(), codes.end());
        frames_.push_back(frames);
        codes_.push_back(codes);
        if (L.frame_access == sampler::ThreadFrameAccess::through_cframe) {
            std::uint64_t cframe = allocate(static_cast<std::size_t>(L.cframe.current_frame) + 8);
            put_pointer(cframe, L.cframe.current_frame, caller);
            put_pointer(thread, ts.frame, cframe);
        } else {
            put_pointer(thread, ts.frame, caller);
        }
    }

    // The first thread holds the GIL.
    const std::uint64_t holder = thread_states_.empty() ? 0 : thread_states_.front();
    switch (L.gil) {
        case sampler::GilModel::current_thread_symbol: write(current_thread_at, holder); break;
        case sampler::GilModel::runtime_tstate_current: put_pointer(runtime_at, L.runtime.tstate_current, holder); break;
        case sampler::GilModel::interpreter_gil: {
            std::uint64_t gil = allocate(static_cast<std::size_t>(std::max(L.gil_state.locked, L.gil_state.last_holder)) + 8);
            put<std::int32_t>(gil, L.gil_state.locked, holder != 0 ? 1 : 0);
            put_pointer(gil, L.gil_state.last_holder, holder);
            put_pointer(interpreter_, L.interpreter.ceval_gil, gil);
            break;
        }
    }

    put_pointer(interpreter_, L.interpreter.modules, thread_names(threads, idents));
    // Whole pages, as memory is mapped.
    image_.resize((image_.size() + 4095) & ~std::size_t{4095});
}

}  // namespace pyprofd::tests
