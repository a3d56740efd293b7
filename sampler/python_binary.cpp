#include "sampler/python_binary.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

#include "sampler/interpreter_symbols.hpp"
#include "sampler/regular_file.hpp"

namespace pyprofd::sampler {
namespace {

std::string_view basename(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The file's mappings, lowest file offset first.
std::vector<const MemoryMapping*> mappings_of(const std::vector<MemoryMapping>& maps,
                                              std::string_view path) {
    std::vector<const MemoryMapping*> out;
    for (const auto& m : maps)
        if (m.path == path) out.push_back(&m);
    std::ranges::sort(out, {}, [](const MemoryMapping* m) { return m->offset; });
    return out;
}

}  // namespace

bool is_libpython(std::string_view path) {
    auto name = basename(path);
    return name.starts_with("libpython") && name.find(".so") != std::string_view::npos;
}

Result<std::pair<RegularFile, std::string>> open_mapped_file(pid_t pid, const MemoryMapping& m) {
    std::optional<std::uint64_t> inode;
    if (m.inode != 0) inode = m.inode;
    auto map_files = fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, m.start, m.end);
    auto file = RegularFile::open(map_files, inode);
    std::string opened_from = map_files;
    if (!file && !m.deleted) {
        auto root = fmt::format("/proc/{}/root", pid);
        file = RegularFile::open_in_root(root, m.path, inode);
        opened_from = root + m.path;
    }
    if (!file)
        return std::unexpected(
            Error{file.error().kind, fmt::format("cannot read {} of process {}: {}", m.path, pid, file.error().message)});
    return std::pair{std::move(*file), opened_from};
}

bool defines_interpreter(const ElfFile& elf) {
    return elf.symbol("PyCode_Type").has_value() &&
           (elf.symbol("Py_Initialize").has_value() || elf.symbol("Py_InitializeEx").has_value());
}

namespace {

// The interpreter's candidate file behind a mapping, parsed.
Result<std::pair<ElfFile, std::string>> load_mapped_file(pid_t pid, const MemoryMapping& m) {
    auto opened = open_mapped_file(pid, m);
    if (!opened) return std::unexpected(opened.error());
    auto elf = ElfFile::load(opened->first, interpreter_symbols());
    if (!elf)
        return std::unexpected(
            Error{elf.error().kind, fmt::format("cannot read {} of process {}: {}", m.path, pid, elf.error().message)});
    return std::pair{std::move(*elf), std::move(opened->second)};
}

std::uint64_t compute_load_bias(const ElfFile& elf, const MemoryMapping& first) {
    for (const auto& seg : elf.load_segments()) {
        // The segment's numbers are the file's: a sum of them could pass 2^64.
        if (first.offset >= seg.file_offset && first.offset - seg.file_offset < seg.file_size)
            return first.start - (seg.vaddr - seg.file_offset + first.offset);
    }
    return 0;
}

}  // namespace

std::optional<RemoteAddress> PythonBinary::address_of(std::string_view symbol) const {
    auto sym = elf.symbol(symbol);
    if (!sym) return std::nullopt;
    return sym->value + load_bias;
}

std::optional<ElfSection> PythonBinary::section_in_memory(std::string_view name) const {
    auto sec = elf.section(name);
    if (!sec || sec->address == 0) return std::nullopt;
    return ElfSection{sec->address + load_bias, sec->size};
}

Result<PythonBinary> locate_python_binary(pid_t pid, const std::vector<MemoryMapping>& maps,
                                          std::string_view exe) {
    constexpr std::string_view deleted_suffix = " (deleted)";
    std::string exe_path(exe);
    if (exe_path.ends_with(deleted_suffix)) exe_path.resize(exe_path.size() - deleted_suffix.size());

    // Candidates: the libpythons mapped (shared builds), then the executable (static
    // builds). A process may map thousands of files named libpython*.so, each one a
    // file to open and parse: the first few are tried, and then the executable.
    constexpr std::size_t max_libpython_candidates = 8;
    std::vector<std::string> candidates;
    std::size_t not_tried = 0;
    for (const auto& m : maps) {
        if (!is_libpython(m.path) || std::ranges::find(candidates, m.path) != candidates.end()) continue;
        if (candidates.size() < max_libpython_candidates)
            candidates.push_back(m.path);
        else
            ++not_tried;
    }
    candidates.push_back(exe_path);

    std::vector<std::string> tried;
    for (const auto& path : candidates) {
        auto mapped = mappings_of(maps, path);
        if (mapped.empty()) continue;
        auto opened = load_mapped_file(pid, *mapped.front());
        if (!opened) {
            if (opened.error().kind == ErrorKind::permission_denied) return std::unexpected(opened.error());
            tried.push_back(fmt::format("{} ({})", path, opened.error().message));
            continue;
        }
        if (!defines_interpreter(opened->first)) {
            tried.push_back(path);
            continue;
        }
        PythonBinary binary;
        binary.path = path;
        binary.opened_from = opened->second;
        binary.shared_library = path != exe_path;
        binary.deleted = mapped.front()->deleted;
        binary.load_bias = compute_load_bias(opened->first, *mapped.front());
        binary.elf = std::move(opened->first);
        return binary;
    }
    std::string what = tried.empty() ? exe_path : tried.front();
    for (std::size_t i = 1; i < tried.size(); ++i) what += ", " + tried[i];
    if (not_tried > 0)
        what += fmt::format(" ({} more mappings of files named libpython*.so not tried: pyprofd tries {} such files)",
                            not_tried, max_libpython_candidates);
    return fail(ErrorKind::not_python,
                fmt::format("process {} is not a Python process: no CPython interpreter in {}", pid,
                            what));
}

}  // namespace pyprofd::sampler
