#include "sampler/elf_file.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <span>

#include "sampler/byte_reads.hpp"

namespace pyprofd::sampler {
namespace {

// A read-only mapping of a whole file, unmapped on scope exit.
class MappedFile {
public:
    MappedFile() = default;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_) ::munmap(data_, size_);
    }

    Result<void> open(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            return fail(err == EACCES || err == EPERM ? ErrorKind::permission_denied : ErrorKind::io,
                        fmt::format("cannot open {}: {}", path, std::strerror(err)));
        }
        struct stat st {};
        if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
            ::close(fd);
            return fail(ErrorKind::io, fmt::format("cannot read {}: empty or unreadable", path));
        }
        size_ = static_cast<std::size_t>(st.st_size);
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) {
            return fail(ErrorKind::io, fmt::format("cannot map {}: {}", path, std::strerror(err)));
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

std::string_view string_at(std::span<const std::byte> file, const Elf64_Shdr& strtab,
                           std::uint32_t index) {
    // The file is the target's: its owner may have written any numbers here.
    if (index >= strtab.sh_size || strtab.sh_offset > file.size() || strtab.sh_size > file.size() - strtab.sh_offset)
        return {};
    const char* base = reinterpret_cast<const char*>(file.data() + strtab.sh_offset);
    std::size_t max = strtab.sh_size - index;
    return {base + index, ::strnlen(base + index, max)};
}

}  // namespace

Result<ElfFile> ElfFile::load(const std::string& path) {
    MappedFile mapped;
    if (auto ok = mapped.open(path); !ok) return std::unexpected(ok.error());
    auto file = mapped.bytes();
    auto bad = [&](std::string_view why) {
        return fail(ErrorKind::bad_data, fmt::format("{} is not a usable ELF file: {}", path, why));
    };

    Elf64_Ehdr eh{};
    if (!read_at(file, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return bad("no ELF header");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64) return bad("only 64-bit ELF files are supported");
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return bad("only little-endian ELF files are supported");

    ElfFile elf;
    elf.position_independent_ = eh.e_type == ET_DYN;

    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        if (!read_at(file, eh.e_phoff + std::uint64_t{i} * eh.e_phentsize, ph))
            return bad("truncated program headers");
        if (ph.p_type == PT_LOAD)
            elf.segments_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
    }

    std::vector<Elf64_Shdr> sections(eh.e_shnum);
    for (unsigned i = 0; i < eh.e_shnum; ++i)
        if (!read_at(file, eh.e_shoff + std::uint64_t{i} * eh.e_shentsize, sections[i]))
            return bad("truncated section headers");

    if (eh.e_shstrndx < sections.size()) {
        const auto& names = sections[eh.e_shstrndx];
        for (const auto& sh : sections) {
            auto name = string_at(file, names, sh.sh_name);
            if (!name.empty()) elf.sections_.emplace(std::string(name), ElfSection{sh.sh_addr, sh.sh_size});
        }
    }

    for (const auto& sh : sections) {
        if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
        if (sh.sh_link >= sections.size() || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh.sh_type == SHT_SYMTAB) elf.has_symtab_ = true;
        const auto& strtab = sections[sh.sh_link];
        std::uint64_t count = sh.sh_size / sizeof(Elf64_Sym);
        for (std::uint64_t i = 1; i < count; ++i) {
            Elf64_Sym sym{};
            if (!read_at(file, sh.sh_offset + i * sizeof(Elf64_Sym), sym)) break;
            if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
            auto name = string_at(file, strtab, sym.st_name);
            if (name.empty()) continue;
            elf.symbols_.try_emplace(std::string(name), ElfSymbol{sym.st_value, sym.st_size});
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
