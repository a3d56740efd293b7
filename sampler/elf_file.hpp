#pragma once
// The parts of an ELF file a profiler needs: its symbols (.dynsym and .symtab),
// sections and loadable segments, so an address in the file can be placed in a process.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sampler/error.hpp"
#include "sampler/regular_file.hpp"

namespace pyprofd::sampler {

class FileBytes;

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

// The symbols to keep of a file's thousands: those named, and those whose names start
// with one of the prefixes (static variables such as "version.0" carry compiler-chosen
// suffixes). A profiler asks for a few dozen; keeping only those bounds what a crafted
// file can make the daemon hold to a few kilobytes.
struct SymbolSelection {
    std::vector<std::string> names;
    std::vector<std::string> prefixes;
};

class ElfFile {
public:
    // Bounds on what a file may cost the daemon. Real interpreters are far inside them:
    // of those installed here, the largest file (libpython3.13) is 31 MB, and the most
    // symbol table entries (libpython3.12) are 17 408: 2 088 in .dynsym, 15 320 in .symtab.
    // A larger file (a sparse one of terabytes costs its owner nothing) is refused.
    static constexpr std::uint64_t max_file_size = std::uint64_t{1} << 30;
    // Symbol table entries read, over all tables (many section headers may name one
    // table); a file with more is refused.
    static constexpr std::uint64_t max_symbols_read = std::uint64_t{4} << 20;
    // Longer names are skipped: no symbol pyprofd looks up comes near.
    static constexpr std::size_t max_symbol_name_length = 512;
    static constexpr std::size_t max_section_name_length = 128;
    // Symbols kept because of a prefix; further ones are skipped (every named one is kept).
    static constexpr std::size_t max_symbols_kept_by_prefix = 256;
    // String tables are read whole; all of them together (.strtab, .dynstr, the
    // section names) are at most 435 KB in the interpreters here. A file whose
    // tables hold more is refused.
    static constexpr std::uint64_t max_string_bytes_read = std::uint64_t{64} << 20;

    // Parses the 64-bit ELF file at path (named by it in errors), keeping the symbols
    // selected. Only a regular file is opened (sampler/regular_file.hpp), and it is
    // read with pread, never mapped (sampler/file_bytes.hpp).
    static Result<ElfFile> load(const std::string& path, const SymbolSelection& keep);
    static Result<ElfFile> load(const RegularFile& file, const SymbolSelection& keep);
    // Parses a 64-bit ELF file's bytes; `what` names the file in errors. Nothing outside
    // `file` is read, whatever its numbers say: the file may be a hostile user's.
    static Result<ElfFile> parse(std::span<const std::byte> file, std::string_view what,
                                 const SymbolSelection& keep);
    // A file known by its symbols alone: for an interpreter whose memory is built by
    // hand (the attach fuzzer, unit tests), with no file behind it.
    static ElfFile from_symbols(const std::vector<std::pair<std::string, ElfSymbol>>& symbols);

    std::optional<ElfSymbol> symbol(std::string_view name) const;
    std::optional<ElfSection> section(std::string_view name) const;
    const std::vector<ElfLoadSegment>& load_segments() const { return segments_; }
    bool is_position_independent() const { return position_independent_; }
    bool has_symbol_table() const { return has_symtab_; }

    // Names of the kept symbols that start with prefix.
    std::vector<std::string> symbols_with_prefix(std::string_view prefix) const;

private:
    static Result<ElfFile> read(const FileBytes& file, std::string_view what, const SymbolSelection& keep);

    std::unordered_map<std::string, ElfSymbol> symbols_;
    std::unordered_map<std::string, ElfSection> sections_;
    std::vector<ElfLoadSegment> segments_;
    bool position_independent_ = false;
    bool has_symtab_ = false;
};

}  // namespace pyprofd::sampler
