#pragma once
// Finding the CPython interpreter inside a process: the mapped file that holds it
// (libpythonX.Y.so for a shared build, the executable for a static one), its ELF
// symbols, and where they are loaded in the process.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sampler/elf_file.hpp"
#include "sampler/error.hpp"
#include "sampler/proc_maps.hpp"
#include "sampler/regular_file.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

struct PythonBinary {
    std::string path;         // as the target sees it (its mount namespace)
    std::string opened_from;  // where we read the file: /proc/PID/map_files/... or /proc/PID/root/...
    bool shared_library = false;
    bool deleted = false;
    std::uint64_t load_bias = 0;
    ElfFile elf;

    // The address of a symbol in the target, where the file defines it.
    std::optional<RemoteAddress> address_of(std::string_view symbol) const;
    // The address and size of a section in the target.
    std::optional<ElfSection> section_in_memory(std::string_view name) const;
};

// Whether a mapped file's name is a shared CPython's (libpython3.11.so.1.0, libpython3.6m.so).
bool is_libpython(std::string_view path);

// Opens the file behind a mapping (its path as the process sees it): the very file that
// is mapped, through /proc/PID/map_files (even when deleted or replaced since, or in
// another mount namespace), else the path resolved inside /proc/PID/root where
// map_files is not allowed (or the mapping is gone since maps was read). The path is
// the target's to choose, and its owner may have put a FIFO, a device node or a
// symlink there since: only the regular file of the mapped inode is opened
// (sampler/regular_file.hpp). The second of the pair says where it was opened from.
Result<std::pair<RegularFile, std::string>> open_mapped_file(pid_t pid, const MemoryMapping& mapping);

// Whether an ELF file defines the CPython interpreter itself (not only links to it).
bool defines_interpreter(const ElfFile& elf);

// Locates the interpreter in the process's mappings. exe is /proc/PID/exe's target.
Result<PythonBinary> locate_python_binary(pid_t pid, const std::vector<MemoryMapping>& maps,
                                          std::string_view exe);

}  // namespace pyprofd::sampler
