#pragma once
// Finding the CPython interpreter inside a process: the mapped file that holds it
// (libpythonX.Y.so for a shared build, the executable for a static one), its ELF
// symbols, and where they are loaded in the process.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/elf_file.hpp"
#include "sampler/error.hpp"
#include "sampler/proc_maps.hpp"
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

// Locates the interpreter in the process's mappings. exe is /proc/PID/exe's target.
Result<PythonBinary> locate_python_binary(pid_t pid, const std::vector<MemoryMapping>& maps,
                                          std::string_view exe);

}  // namespace pyprofd::sampler
