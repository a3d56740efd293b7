#pragma once
// A small 64-bit ELF file built by hand, for the ELF reader's tests: one PT_LOAD
// segment and a .symtab of the given symbols. A test then changes its numbers the
// way the owner of a hostile file would, and parses it.
#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace pyprofd::tests {

struct ElfImageSymbol {
    std::string name;
    std::uint64_t value = 0x1000;
};

class ElfImage {
public:
    // Sections: 0 (none), 1 .symtab, 2 .strtab, 3 .shstrtab.
    static constexpr std::size_t symtab_index = 1;
    static constexpr std::size_t strtab_index = 2;

    explicit ElfImage(const std::vector<ElfImageSymbol>& symbols);

    std::span<const std::byte> bytes() const { return bytes_; }

    Elf64_Ehdr header() const;
    void set_header(const Elf64_Ehdr& header);
    Elf64_Phdr program_header() const;
    Elf64_Shdr section(std::size_t index) const;
    void set_section(std::size_t index, const Elf64_Shdr& section);

    // Writes the image to path; then, where file_size is larger, extends the file
    // with a hole to that size (no disk space taken).
    void write(const std::string& path, std::uint64_t file_size = 0) const;

private:
    std::vector<std::byte> bytes_;
    std::size_t section_headers_at_ = 0;  // where built, whatever e_shoff says later
};

}  // namespace pyprofd::tests
