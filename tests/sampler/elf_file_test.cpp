// The interpreter's ELF file is read from the target's mappings: its owner may have
// written it, so its numbers are input too.
#include <doctest/doctest.h>

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "sampler/elf_file.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;

TEST_CASE("a string table that says it lies past the end of the address space is not read") {
    // This test's own executable, with its symbol table's strings moved to where
    // offset + size wraps around to a small number: a check of their sum passes,
    // and the names would be read a terabyte before the file.
    std::ifstream in("/proc/self/exe", std::ios::binary);
    std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(file.size() > sizeof(Elf64_Ehdr));
    Elf64_Ehdr eh;
    std::memcpy(&eh, file.data(), sizeof eh);
    auto section_header = [&](std::size_t i) { return file.data() + eh.e_shoff + i * eh.e_shentsize; };
    bool changed = false;
    for (std::size_t i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, section_header(i), sizeof sh);
        if (sh.sh_type != SHT_SYMTAB) continue;
        Elf64_Shdr strtab;
        std::memcpy(&strtab, section_header(sh.sh_link), sizeof strtab);
        // 1 TiB before the file's start, and long enough to reach past its start.
        strtab.sh_offset = 0 - (std::uint64_t{1} << 40);
        strtab.sh_size = (std::uint64_t{1} << 40) + file.size() / 2;
        std::memcpy(section_header(sh.sh_link), &strtab, sizeof strtab);
        changed = true;
    }
    REQUIRE_MESSAGE(changed, "the test executable has no .symtab");
    tests::ScratchDir dir;
    std::ofstream(dir.file("crafted"), std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));

    auto elf = sampler::ElfFile::load(dir.file("crafted"));
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK_FALSE(elf->symbol("main"));  // its name was in the strings that could not be read
    auto intact = sampler::ElfFile::load("/proc/self/exe");
    REQUIRE(intact);
    CHECK(intact->symbol("main"));
}
