#include "sampler/interpreter_file_facts.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "sampler/byte_reads.hpp"
#include "sampler/file_bytes.hpp"
#include "sampler/python_binary.hpp"
#include "sampler/version_detection.hpp"

namespace pyprofd::sampler {
namespace {

// The few symbols this needs of a file's thousands.
const SymbolSelection& symbols_wanted() {
    static const SymbolSelection selection{
        .names = {"PyCode_Type", "Py_Initialize", "Py_InitializeEx", "Py_Version"},
        .prefixes = {},
    };
    return selection;
}

// Where in the file the bytes of a link-time address lie, where a loadable segment
// holds `size` of them there (not in its zero-filled tail). The numbers are the file's.
std::optional<std::uint64_t> file_offset_of(const ElfFile& elf, std::uint64_t address, std::uint64_t size) {
    for (const auto& segment : elf.load_segments()) {
        if (address < segment.vaddr) continue;
        auto into = address - segment.vaddr;
        if (into > segment.file_size || segment.file_size - into < size) continue;
        if (segment.file_offset > std::numeric_limits<std::uint64_t>::max() - into) continue;
        return segment.file_offset + into;
    }
    return std::nullopt;
}

bool same_minor(const PythonVersion& a, const PythonVersion& b) { return a.major == b.major && a.minor == b.minor; }

// Py_Version: PY_VERSION_HEX as a constant (3.11+).
std::optional<PythonVersion> version_constant(const ElfFile& elf, const FileBytes& bytes,
                                              const std::optional<PythonVersion>& named) {
    auto symbol = elf.symbol("Py_Version");
    if (!symbol) return std::nullopt;
    auto at = file_offset_of(elf, symbol->value, sizeof(std::uint64_t));
    std::array<std::byte, sizeof(std::uint64_t)> raw{};
    if (!at || !bytes.read(*at, raw)) return std::nullopt;
    auto version = PythonVersion::from_hex(load<std::uint64_t>(raw.data()));
    // Only 3.11 and later define it: anything else is not what the name promised.
    if (version.major != 3 || version.minor < 11) return std::nullopt;
    if (named && !same_minor(*named, version)) return std::nullopt;
    return version;
}

// PY_VERSION among the constant strings (.rodata).
std::optional<PythonVersion> version_in_constants(const ElfFile& elf, const FileBytes& bytes, const PythonVersion& named) {
    auto rodata = elf.section(".rodata");
    if (!rodata || rodata->size == 0) return std::nullopt;
    auto size = std::min(rodata->size, max_constant_bytes_searched);
    auto at = file_offset_of(elf, rodata->address, size);
    if (!at) return std::nullopt;
    std::vector<std::byte> constants(size);
    if (!bytes.read(*at, constants)) return std::nullopt;
    return version_string_in(std::string_view(reinterpret_cast<const char*>(constants.data()), constants.size()),
                             named.major, named.minor);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A release's suffix in PY_VERSION: none, "a1", "b2", "rc3", each maybe followed by
// "+" (a build past the tag, as Debian's are).
bool is_version_suffix(std::string_view s) {
    if (s.ends_with('+')) s.remove_suffix(1);
    if (s.empty()) return true;
    for (std::string_view level : {"rc", "a", "b"}) {
        if (!s.starts_with(level)) continue;
        auto serial = s.substr(level.size());
        return !serial.empty() && serial.size() <= 2 && std::all_of(serial.begin(), serial.end(), is_digit);
    }
    return false;
}

}  // namespace

std::optional<PythonVersion> version_string_in(std::string_view constants, int major, int minor) {
    auto prefix = fmt::format("{}.{}.", major, minor);
    std::optional<PythonVersion> found;
    for (auto at = constants.find(prefix); at != std::string_view::npos; at = constants.find(prefix, at + 1)) {
        // Not the tail of a longer number ("13.11.2", "3.3.11.2").
        if (at > 0 && (is_digit(constants[at - 1]) || constants[at - 1] == '.')) continue;
        auto end = at + prefix.size();
        auto micro_start = end;
        while (end < constants.size() && end - micro_start < 3 && is_digit(constants[end])) ++end;
        if (end == micro_start) continue;
        auto suffix_start = end;
        while (end < constants.size() && end - suffix_start < 5 && constants[end] != '\0') ++end;
        if (end >= constants.size() || constants[end] != '\0') continue;
        if (!is_version_suffix(constants.substr(suffix_start, end - suffix_start))) continue;
        auto version = PythonVersion::parse(constants.substr(at, end - at));
        if (!version) continue;
        if (found && found->to_string() != version->to_string()) return std::nullopt;  // two: which?
        found = version;
    }
    return found;
}

Result<InterpreterFileFacts> read_interpreter_file_facts(const RegularFile& file, std::string_view path) {
    if (file.size() > max_interpreter_file_bytes)
        return fail(ErrorKind::bad_data, fmt::format("{} is {} bytes, more than an interpreter's file may be ({})", path,
                                                     file.size(), max_interpreter_file_bytes));
    auto elf = ElfFile::load(file, symbols_wanted());
    if (!elf) return std::unexpected(elf.error());
    InterpreterFileFacts facts;
    facts.defines_interpreter = defines_interpreter(*elf);
    if (!facts.defines_interpreter) return facts;
    FileBytes bytes(file);
    auto named = version_from_file_name(path);
    facts.version = version_constant(*elf, bytes, named);
    if (!facts.version && named) {
        facts.version = version_in_constants(*elf, bytes, *named);
        if (!facts.version) facts.version = named;
    }
    return facts;
}

}  // namespace pyprofd::sampler
