#include "sampler/elf_file.hpp"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <span>

namespace pyprofd::sampler {
namespace {

Result<void> check_file_size(std::uint64_t size, std::string_view what) {
    if (size <= ElfFile::max_file_size) return {};
    return fail(ErrorKind::bad_data,
                fmt::format("{} is not a Python interpreter pyprofd reads: it is {} bytes, more than the "
                            "{} MiB an interpreter's file may have",
                            what, size, ElfFile::max_file_size >> 20));
}

// A read-only mapping of a whole file, unmapped on scope exit.
class MappedFile {
public:
    MappedFile() = default;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_) ::munmap(data_, size_);
    }

    Result<void> open(const RegularFile& file) {
        if (file.size() == 0) return fail(ErrorKind::io, fmt::format("cannot read {}: it is empty", file.name()));
        if (auto ok = check_file_size(file.size(), file.name()); !ok) return ok;
        size_ = static_cast<std::size_t>(file.size());
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
        if (p == MAP_FAILED) {
            return fail(ErrorKind::io, fmt::format("cannot map {}: {}", file.name(), std::strerror(errno)));
        }
        data_ = p;
        return {};
    }

    std::span<const std::byte> bytes() const {
        return {static_cast<const std::byte*>(data_), size_};
    }

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

template <class T>
bool read_at(std::span<const std::byte> file, std::uint64_t offset, T& out) {
    if (offset > file.size() || file.size() - offset < sizeof(T)) return false;
    std::memcpy(&out, file.data() + offset, sizeof(T));
    return true;
}

// Where entry `index` of a table at `offset` with entries of `entry_size` bytes starts,
// or nothing where that passes 2^64: the file's owner chose all three numbers, and a
// sum that wraps would land inside the file, on bytes that are not the table.
std::optional<std::uint64_t> entry_offset(std::uint64_t offset, std::uint64_t index, std::uint64_t entry_size) {
    std::uint64_t skip = 0;
    std::uint64_t at = 0;
    if (__builtin_mul_overflow(index, entry_size, &skip) || __builtin_add_overflow(offset, skip, &at))
        return std::nullopt;
    return at;
}

// Whether a table of `count` entries lies wholly within the file.
bool table_fits(std::span<const std::byte> file, std::uint64_t offset, std::uint64_t count,
                std::uint64_t entry_size) {
    auto end = entry_offset(offset, count, entry_size);
    return end && *end <= file.size();
}

// The NUL-terminated string at `index` of a string table, or nothing where it is not
// terminated within the table and within max_length bytes. The file is the target's:
// its owner may have written any numbers here, and a table of a gigabyte without a NUL.
std::optional<std::string_view> string_at(std::span<const std::byte> file, const Elf64_Shdr& strtab,
                                          std::uint32_t index, std::size_t max_length) {
    if (index >= strtab.sh_size || strtab.sh_offset > file.size() || strtab.sh_size > file.size() - strtab.sh_offset)
        return std::nullopt;
    const char* text = reinterpret_cast<const char*>(file.data() + strtab.sh_offset) + index;
    std::size_t available = strtab.sh_size - index;
    std::size_t length = ::strnlen(text, std::min(available, max_length + 1));
    if (length == available || length > max_length) return std::nullopt;
    return std::string_view(text, length);
}

bool starts_with_any(std::string_view name, const std::vector<std::string>& prefixes) {
    return std::ranges::any_of(prefixes, [&](const std::string& p) { return name.starts_with(p); });
}

}  // namespace

Result<ElfFile> ElfFile::load(const std::string& path, const SymbolSelection& keep) {
    auto file = RegularFile::open(path);
    if (!file) return std::unexpected(file.error());
    return load(*file, keep);
}

Result<ElfFile> ElfFile::load(const RegularFile& file, const SymbolSelection& keep) {
    MappedFile mapped;
    if (auto ok = mapped.open(file); !ok) return std::unexpected(ok.error());
    return parse(mapped.bytes(), file.name(), keep);
}

Result<ElfFile> ElfFile::parse(std::span<const std::byte> file, std::string_view what, const SymbolSelection& keep) {
    auto bad = [&](std::string_view why) {
        return fail(ErrorKind::bad_data, fmt::format("{} is not a usable ELF file: {}", what, why));
    };
    if (auto ok = check_file_size(file.size(), what); !ok) return std::unexpected(ok.error());

    Elf64_Ehdr eh{};
    if (!read_at(file, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return bad("no ELF header");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) return bad("only 64-bit ELF files are supported");
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return bad("only little-endian ELF files are supported");

    ElfFile elf;
    elf.position_independent_ = eh.e_type == ET_DYN;

    // Entries smaller than the struct would overlap: one header read many times over.
    if (eh.e_phnum > 0 && eh.e_phentsize < sizeof(Elf64_Phdr))
        return bad(fmt::format("its program headers are {} bytes each, less than the {} of one",
                               eh.e_phentsize, sizeof(Elf64_Phdr)));
    if (eh.e_shnum > 0 && eh.e_shentsize < sizeof(Elf64_Shdr))
        return bad(fmt::format("its section headers are {} bytes each, less than the {} of one",
                               eh.e_shentsize, sizeof(Elf64_Shdr)));
    if (!table_fits(file, eh.e_phoff, eh.e_phnum, eh.e_phentsize)) return bad("truncated program headers");
    if (!table_fits(file, eh.e_shoff, eh.e_shnum, eh.e_shentsize)) return bad("truncated section headers");

    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        auto at = entry_offset(eh.e_phoff, i, eh.e_phentsize);
        if (!at || !read_at(file, *at, ph)) return bad("truncated program headers");
        if (ph.p_type == PT_LOAD)
            elf.segments_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
    }

    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
        auto at = entry_offset(eh.e_shoff, i, eh.e_shentsize);
        if (!at || !read_at(file, *at, sections[i])) return bad("truncated section headers");
    }

    if (eh.e_shstrndx < sections.size()) {
        const auto& names = sections[eh.e_shstrndx];
        for (const auto& sh : sections) {
            auto name = string_at(file, names, sh.sh_name, max_section_name_length);
            if (name && !name->empty()) elf.sections_.emplace(std::string(*name), ElfSection{sh.sh_addr, sh.sh_size});
        }
    }

    std::uint64_t symbols_read = 0;
    std::size_t kept_by_prefix = 0;
    for (const auto& sh : sections) {
        if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
        if (sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh.sh_type == SHT_SYMTAB) elf.has_symtab_ = true;
        const auto& strtab = sections[sh.sh_link];
        std::uint64_t count = sh.sh_size / sizeof(Elf64_Sym);
        if (!table_fits(file, sh.sh_offset, count, sizeof(Elf64_Sym)))
            return bad(fmt::format("a symbol table of {} entries at offset {} runs past its end", count,
                                   sh.sh_offset));
        // Counted over all tables: many section headers may name one table.
        symbols_read += count;
        if (symbols_read > max_symbols_read)
            return bad(fmt::format("its symbol tables have more than {} entries, far more than any "
                                   "interpreter's",
                                   max_symbols_read));
        for (std::uint64_t i = 1; i < count; ++i) {
            Elf64_Sym sym{};
            auto at = entry_offset(sh.sh_offset, i, sizeof(Elf64_Sym));
            if (!at || !read_at(file, *at, sym)) return bad("truncated symbol table");
            if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
            auto name = string_at(file, strtab, sym.st_name, max_symbol_name_length);
            if (!name || name->empty()) continue;
            bool named = std::ranges::find(keep.names, *name) != keep.names.end();
            if (!named && (kept_by_prefix >= max_symbols_kept_by_prefix || !starts_with_any(*name, keep.prefixes)))
                continue;
            if (elf.symbols_.try_emplace(std::string(*name), ElfSymbol{sym.st_value, sym.st_size}).second && !named)
                ++kept_by_prefix;
        }
    }
    return elf;
}

ElfFile ElfFile::from_symbols(const std::vector<std::pair<std::string, ElfSymbol>>& symbols) {
    ElfFile elf;
    elf.position_independent_ = true;
    elf.has_symtab_ = true;
    for (const auto& [name, symbol] : symbols) elf.symbols_.try_emplace(name, symbol);
    return elf;
}

std::optional<ElfSymbol> ElfFile::symbol(std::string_view name) const {
    if (auto it = symbols_.find(std::string(name)); it != symbols_.end()) return it->second;
    return std::nullopt;
}

std::optional<ElfSection> ElfFile::section(std::string_view name) const {
    if (auto it = sections_.find(std::string(name)); it != sections_.end()) return it->second;
    return std::nullopt;
}

std::vector<std::string> ElfFile::symbols_with_prefix(std::string_view prefix) const {
    std::vector<std::string> out;
    for (const auto& [name, sym] : symbols_)
        if (name.starts_with(prefix)) out.push_back(name);
    return out;
}

}  // namespace pyprofd::sampler
