#pragma once
// The memory mappings of a process, as /proc/PID/maps lists them.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

struct MemoryMapping {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::string permissions;  // e.g. "r-xp"
    std::uint64_t offset = 0;
    std::uint64_t inode = 0;
    std::string path;  // without the " (deleted)" suffix
    bool deleted = false;

    bool readable() const { return !permissions.empty() && permissions[0] == 'r'; }
    bool writable() const { return permissions.size() > 1 && permissions[1] == 'w'; }
    bool executable() const { return permissions.size() > 2 && permissions[2] == 'x'; }
};

// Parses the text of a maps file. Malformed lines are skipped: the kernel's format is
// stable, so one we cannot parse is not one we need.
std::vector<MemoryMapping> parse_proc_maps(std::string_view text);

Result<std::vector<MemoryMapping>> read_proc_maps(pid_t pid);

}  // namespace pyprofd::sampler
