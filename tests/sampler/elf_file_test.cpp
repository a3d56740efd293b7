// The interpreter's ELF file is read from the target's mappings: its owner may have
// written it, so its numbers are input too.
#include <doctest/doctest.h>

#include <elf.h>

#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <vector>

#include "sampler/elf_file.hpp"
#include "tests/support/elf_image.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using tests::ElfImage;

namespace {

bool mentions(const sampler::Result<sampler::ElfFile>& elf, std::string_view text) {
    return !elf && elf.error().message.find(text) != std::string::npos;
}

}  // namespace

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

TEST_CASE("the hand-built ELF image parses, with its symbol and its segment") {
    ElfImage image({{"PyCode_Type", 0x4000}});
    auto elf = sampler::ElfFile::parse(image.bytes(), "image");
    REQUIRE_MESSAGE(elf, elf.error().message);
    REQUIRE(elf->symbol("PyCode_Type"));
    CHECK(elf->symbol("PyCode_Type")->value == 0x4000);
    CHECK(elf->load_segments().size() == 1);
}

TEST_CASE("header entries smaller than a header are refused, not read over and over") {
    ElfImage image({{"PyCode_Type", 0x4000}});
    SUBCASE("program headers of 0 bytes: the one PT_LOAD, 65535 times") {
        auto eh = image.header();
        eh.e_phentsize = 0;
        eh.e_phnum = 0xffff;
        image.set_header(eh);
        auto elf = sampler::ElfFile::parse(image.bytes(), "crafted");
        CHECK_MESSAGE(mentions(elf, "crafted is not a usable ELF file: its program headers are 0 bytes each"),
                      (elf ? fmt::format("{} segments", elf->load_segments().size()) : elf.error().message));
    }
    SUBCASE("section headers of 1 byte: each read across the next") {
        auto eh = image.header();
        eh.e_shentsize = 1;
        image.set_header(eh);
        auto elf = sampler::ElfFile::parse(image.bytes(), "crafted");
        CHECK_MESSAGE(mentions(elf, "its section headers are 1 bytes each"), (elf ? "parsed" : elf.error().message));
    }
}

TEST_CASE("header tables past the end of the file, or of the address space, are refused") {
    // Regression cover: the reader checked each entry as it read it, which refused
    // these as well; the table's whole extent is now checked, with checked arithmetic.
    ElfImage image({{"PyCode_Type", 0x4000}});
    auto eh = image.header();
    SUBCASE("program headers") { eh.e_phoff = ~std::uint64_t{0} - 8; }
    SUBCASE("section headers") { eh.e_shoff = ~std::uint64_t{0} - 8; }
    SUBCASE("section headers, the last one past the end") { eh.e_shnum = 5; }
    image.set_header(eh);
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted");
    CHECK(mentions(elf, "headers"));
}

TEST_CASE("a symbol table that runs past the end of the file is refused, not read in part") {
    ElfImage image({{"PyCode_Type", 0x4000}, {"Py_Initialize", 0x5000}});
    auto symtab = image.section(ElfImage::symtab_index);
    SUBCASE("past the end of the file") { symtab.sh_size += 1000 * sizeof(Elf64_Sym); }
    SUBCASE("past the end of the address space") {
        symtab.sh_size = ~std::uint64_t{0} - sizeof(Elf64_Sym);
    }
    image.set_section(ElfImage::symtab_index, symtab);
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted");
    CHECK_MESSAGE(mentions(elf, "runs past its end"), (elf ? "parsed" : elf.error().message));
}

TEST_CASE("a file larger than any interpreter's is refused before it is read") {
    // A sparse file costs its owner nothing, and a reader that went through it would
    // take minutes; no CPython's file is 1 GiB.
    tests::ScratchDir dir;
    ElfImage image({{"PyCode_Type", 0x4000}});
    image.write(dir.file("libpython3.11.so"), sampler::ElfFile::max_file_size + 1);
    auto elf = sampler::ElfFile::load(dir.file("libpython3.11.so"));
    CHECK_MESSAGE(mentions(elf, "it is 1073741825 bytes, more than the 1024 MiB an interpreter's file may have"),
                  (elf ? "loaded" : elf.error().message));

    image.write(dir.file("libpython3.11.so"), sampler::ElfFile::max_file_size);
    auto at_the_limit = sampler::ElfFile::load(dir.file("libpython3.11.so"));
    CHECK_MESSAGE(at_the_limit, at_the_limit.error().message);
}
