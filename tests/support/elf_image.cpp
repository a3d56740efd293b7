#include "tests/support/elf_image.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace pyprofd::tests {
namespace {

template <class T>
void put(std::vector<std::byte>& out, std::size_t at, const T& value) {
    if (out.size() < at + sizeof value) out.resize(at + sizeof value);
    std::memcpy(out.data() + at, &value, sizeof value);
}

void append(std::vector<std::byte>& out, std::string_view text) {
    for (char c : text) out.push_back(static_cast<std::byte>(c));
    out.push_back(std::byte{0});
}

std::size_t aligned(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

}  // namespace

ElfImage::ElfImage(const std::vector<ElfImageSymbol>& symbols) {
    const std::size_t phdr_at = sizeof(Elf64_Ehdr);
    const std::size_t symtab_at = phdr_at + sizeof(Elf64_Phdr);
    const std::size_t symtab_size = (symbols.size() + 1) * sizeof(Elf64_Sym);

    bytes_.resize(symtab_at + symtab_size);
    const std::size_t strtab_at = bytes_.size();
    bytes_.push_back(std::byte{0});
    for (std::size_t i = 0; i < symbols.size(); ++i) {
        Elf64_Sym sym{};
        sym.st_name = static_cast<std::uint32_t>(bytes_.size() - strtab_at);
        sym.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
        sym.st_shndx = symtab_index;  // defined (any section but SHN_UNDEF)
        sym.st_value = symbols[i].value;
        sym.st_size = 8;
        append(bytes_, symbols[i].name);
        put(bytes_, symtab_at + (i + 1) * sizeof(Elf64_Sym), sym);
    }
    const std::size_t strtab_size = bytes_.size() - strtab_at;

    const std::size_t shstrtab_at = bytes_.size();
    bytes_.push_back(std::byte{0});
    append(bytes_, ".symtab");
    append(bytes_, ".strtab");
    append(bytes_, ".shstrtab");
    const std::size_t shstrtab_size = bytes_.size() - shstrtab_at;

    const std::size_t shdr_at = aligned(bytes_.size());
    bytes_.resize(shdr_at + 4 * sizeof(Elf64_Shdr));
    section_headers_at_ = shdr_at;

    Elf64_Shdr symtab{};
    symtab.sh_name = 1;
    symtab.sh_type = SHT_SYMTAB;
    symtab.sh_offset = symtab_at;
    symtab.sh_size = symtab_size;
    symtab.sh_link = strtab_index;
    symtab.sh_info = 1;
    symtab.sh_entsize = sizeof(Elf64_Sym);
    Elf64_Shdr strtab{};
    strtab.sh_name = 1 + 8;
    strtab.sh_type = SHT_STRTAB;
    strtab.sh_offset = strtab_at;
    strtab.sh_size = strtab_size;
    Elf64_Shdr shstrtab{};
    shstrtab.sh_name = 1 + 8 + 8;
    shstrtab.sh_type = SHT_STRTAB;
    shstrtab.sh_offset = shstrtab_at;
    shstrtab.sh_size = shstrtab_size;
    set_section(1, symtab);
    set_section(2, strtab);
    set_section(3, shstrtab);

    Elf64_Phdr load{};
    load.p_type = PT_LOAD;
    load.p_flags = PF_R;
    load.p_filesz = load.p_memsz = bytes_.size();
    load.p_align = 0x1000;
    put(bytes_, phdr_at, load);

    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = phdr_at;
    eh.e_shoff = shdr_at;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 4;
    eh.e_shstrndx = 3;
    set_header(eh);
}

Elf64_Ehdr ElfImage::header() const {
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes_.data(), sizeof eh);
    return eh;
}

void ElfImage::set_header(const Elf64_Ehdr& header) { put(bytes_, 0, header); }

Elf64_Phdr ElfImage::program_header() const {
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes_.data() + sizeof(Elf64_Ehdr), sizeof ph);
    return ph;
}

Elf64_Shdr ElfImage::section(std::size_t index) const {
    Elf64_Shdr sh;
    std::memcpy(&sh, bytes_.data() + section_headers_at_ + index * sizeof sh, sizeof sh);
    return sh;
}

void ElfImage::set_section(std::size_t index, const Elf64_Shdr& section) {
    put(bytes_, section_headers_at_ + index * sizeof section, section);
}

void ElfImage::write(const std::string& path, std::uint64_t file_size) const {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + path);
    bool ok = ::write(fd, bytes_.data(), bytes_.size()) == static_cast<ssize_t>(bytes_.size()) &&
              (file_size <= bytes_.size() || ::ftruncate(fd, static_cast<off_t>(file_size)) == 0);
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace pyprofd::tests
