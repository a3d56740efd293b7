#pragma once
// The parts of an ELF file a profiler needs: its symbols (.dynsym and .symtab),
// sections and loadable segments, so an address in the file can be placed in a process.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

struct ElfSymbol {
    std::uint64_t value = 0;  // link-time virtual address
    std::uint64_t size = 0;
};

struct ElfSection {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
};

struct ElfLoadSegment {
    std::uint64_t vaddr = 0;
    std::uint64_t file_offset = 0;
    std::uint64_t file_size = 0;
    std::uint64_t memory_size = 0;
};

class ElfFile {
public:
    // No CPython's file comes near this (the largest here, libpython3.13 with its
    // symbols, is 31 MB); a larger file, such as a sparse one of terabytes, would only
    // keep the daemon reading.
    static constexpr std::uint64_t max_file_size = std::uint64_t{1} << 30;

    // Parses the 64-bit ELF file at path (named by it in errors).
    static Result<ElfFile> load(const std::string& path);
    // Parses a 64-bit ELF file's bytes; `what` names the file in errors. Nothing outside
    // `file` is read, whatever its numbers say: the file may be a hostile user's.
    static Result<ElfFile> parse(std::span<const std::byte> file, std::string_view what);
    // A file known by its symbols alone: for an interpreter whose memory is built by
    // hand (the attach fuzzer, unit tests), with no file behind it.
    static ElfFile from_symbols(const std::vector<std::pair<std::string, ElfSymbol>>& symbols);

    std::optional<ElfSymbol> symbol(std::string_view name) const;
    std::optional<ElfSection> section(std::string_view name) const;
    const std::vector<ElfLoadSegment>& load_segments() const { return segments_; }
    bool is_position_independent() const { return position_independent_; }
    bool has_symbol_table() const { return has_symtab_; }

    // Names of defined symbols that start with prefix (static variables such as
    // "version.0" carry compiler-chosen suffixes).
    std::vector<std::string> symbols_with_prefix(std::string_view prefix) const;

private:
    std::unordered_map<std::string, ElfSymbol> symbols_;
    std::unordered_map<std::string, ElfSection> sections_;
    std::vector<ElfLoadSegment> segments_;
    bool position_independent_ = false;
    bool has_symtab_ = false;
};

}  // namespace pyprofd::sampler
