#include "sampler/elf_file.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <span>

#include "sampler/file_bytes.hpp"

namespace pyprofd::sampler {
namespace {

Result<void> check_file_size(std::uint64_t size, std::string_view what) {
    if (size <= ElfFile::max_file_size) return {};
    return fail(ErrorKind::bad_data,
                fmt::format("{} is not a Python interpreter pyprofd reads: it is {} bytes, more than the "
                            "{} MiB an interpreter's file may have",
                            what, size, ElfFile::max_file_size >> 20));
}

template <class T>
bool read_at(const FileBytes& file, std::uint64_t offset, T& out) {
    return file.read(offset, std::as_writable_bytes(std::span(&out, 1)));
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
bool table_fits(const FileBytes& file, std::uint64_t offset, std::uint64_t count, std::uint64_t entry_size) {
    auto end = entry_offset(offset, count, entry_size);
    return end && *end <= file.size();
}

// A string table, read whole: a name is looked up in it by index, once per symbol.
class StringTable {
public:
    // The `size` bytes at offset, or nothing where they could not all be read.
    static std::optional<StringTable> read(const FileBytes& file, std::uint64_t offset, std::uint64_t size) {
        StringTable table;
        table.text_.resize(static_cast<std::size_t>(size));
        if (!file.read(offset, std::as_writable_bytes(std::span(table.text_)))) return std::nullopt;
        return table;
    }

    // The NUL-terminated string at index, or nothing where it is not terminated within
    // the table and within max_length bytes (a table of 64 MiB may have no NUL at all).
    std::optional<std::string_view> at(std::uint32_t index, std::size_t max_length) const {
        if (index >= text_.size()) return std::nullopt;
        const char* text = text_.data() + index;
        std::size_t available = text_.size() - index;
        std::size_t length = ::strnlen(text, std::min(available, max_length + 1));
        if (length == available || length > max_length) return std::nullopt;
        return std::string_view(text, length);
    }

private:
    std::vector<char> text_;
};

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
    if (file.size() == 0) return fail(ErrorKind::io, fmt::format("cannot read {}: it is empty", file.name()));
    return read(FileBytes(file), file.name(), keep);
}

Result<ElfFile> ElfFile::parse(std::span<const std::byte> file, std::string_view what, const SymbolSelection& keep) {
    return read(FileBytes(file), what, keep);
}

Result<ElfFile> ElfFile::read(const FileBytes& file, std::string_view what, const SymbolSelection& keep) {
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

    // A table outside the file names nothing. Tables are read whole, within a budget
    // over all of them: many section headers may name one table.
    std::uint64_t string_budget = max_string_bytes_read;
    auto strings_of = [&](const Elf64_Shdr& header) -> Result<StringTable> {
        if (!table_fits(file, header.sh_offset, header.sh_size, 1)) return StringTable{};
        if (header.sh_size > string_budget)
            return bad(fmt::format("its string tables hold more than {} MiB, far more than any interpreter's",
                                   max_string_bytes_read >> 20));
        string_budget -= header.sh_size;
        auto table = StringTable::read(file, header.sh_offset, header.sh_size);
        if (!table) return bad("truncated string table");
        return std::move(*table);
    };

    if (eh.e_shstrndx < sections.size()) {
        auto names = strings_of(sections[eh.e_shstrndx]);
        if (!names) return std::unexpected(names.error());
        for (const auto& sh : sections) {
            auto name = names->at(sh.sh_name, max_section_name_length);
            if (name && !name->empty()) elf.sections_.emplace(std::string(*name), ElfSection{sh.sh_addr, sh.sh_size});
        }
    }

    std::uint64_t symbols_read = 0;
    std::size_t kept_by_prefix = 0;
    std::vector<Elf64_Sym> chunk;
    for (const auto& sh : sections) {
        if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
        if (sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh.sh_type == SHT_SYMTAB) elf.has_symtab_ = true;
        std::uint64_t count = sh.sh_size / sizeof(Elf64_Sym);
        if (count < 2) continue;  // entry 0 is none
        if (!table_fits(file, sh.sh_offset, count, sizeof(Elf64_Sym)))
            return bad(fmt::format("a symbol table of {} entries at offset {} runs past its end", count,
                                   sh.sh_offset));
        // Counted over all tables: many section headers may name one table.
        symbols_read += count;
        if (symbols_read > max_symbols_read)
            return bad(fmt::format("its symbol tables have more than {} entries, far more than any "
                                   "interpreter's",
                                   max_symbols_read));
        auto strtab = strings_of(sections[sh.sh_link]);
        if (!strtab) return std::unexpected(strtab.error());

        // Read a few thousand entries at a time: one pread each, not one per symbol.
        for (std::uint64_t first = 1; first < count; first += chunk.size()) {
            chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count - first, 4096)));
            auto at = entry_offset(sh.sh_offset, first, sizeof(Elf64_Sym));
            if (!at || !file.read(*at, std::as_writable_bytes(std::span(chunk)))) return bad("truncated symbol table");
            for (const auto& sym : chunk) {
                if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
                auto name = strtab->at(sym.st_name, max_symbol_name_length);
                if (!name || name->empty()) continue;
                bool named = std::ranges::find(keep.names, *name) != keep.names.end();
                if (!named &&
                    (kept_by_prefix >= max_symbols_kept_by_prefix || !starts_with_any(*name, keep.prefixes)))
                    continue;
                if (elf.symbols_.try_emplace(std::string(*name), ElfSymbol{sym.st_value, sym.st_size}).second &&
                    !named)
                    ++kept_by_prefix;
            }
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
