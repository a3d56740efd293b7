// The interpreter's ELF file is read from the target's mappings: its owner may have
// written it, so its numbers are input too.
#include <doctest/doctest.h>

#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <vector>

#include "sampler/elf_file.hpp"
#include "sampler/interpreter_symbols.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/elf_image.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using tests::ElfImage;
using tests::ElfImageSymbol;

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

    auto elf = sampler::ElfFile::load(dir.file("crafted"), {.names = {"main"}});
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK_FALSE(elf->symbol("main"));  // its name was in the strings that could not be read
    auto intact = sampler::ElfFile::load("/proc/self/exe", {.names = {"main"}});
    REQUIRE(intact);
    CHECK(intact->symbol("main"));
}

TEST_CASE("the hand-built ELF image parses, with its symbol and its segment") {
    ElfImage image({{"PyCode_Type", 0x4000}});
    auto elf = sampler::ElfFile::parse(image.bytes(), "image", {.names = {"PyCode_Type"}});
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
        auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.names = {"PyCode_Type"}});
        CHECK_MESSAGE(mentions(elf, "crafted is not a usable ELF file: its program headers are 0 bytes each"),
                      (elf ? fmt::format("{} segments", elf->load_segments().size()) : elf.error().message));
    }
    SUBCASE("section headers of 1 byte: each read across the next") {
        auto eh = image.header();
        eh.e_shentsize = 1;
        image.set_header(eh);
        auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.names = {"PyCode_Type"}});
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
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.names = {"PyCode_Type"}});
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
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.names = {"PyCode_Type"}});
    CHECK_MESSAGE(mentions(elf, "runs past its end"), (elf ? "parsed" : elf.error().message));
}

TEST_CASE("a file larger than any interpreter's is refused before it is read") {
    // A sparse file costs its owner nothing, and a reader that went through it would
    // take minutes; no CPython's file is 1 GiB.
    tests::ScratchDir dir;
    ElfImage image({{"PyCode_Type", 0x4000}});
    image.write(dir.file("libpython3.11.so"), sampler::ElfFile::max_file_size + 1);
    auto elf = sampler::ElfFile::load(dir.file("libpython3.11.so"), {});
    CHECK_MESSAGE(mentions(elf, "it is 1073741825 bytes, more than the 1024 MiB an interpreter's file may have"),
                  (elf ? "loaded" : elf.error().message));

    image.write(dir.file("libpython3.11.so"), sampler::ElfFile::max_file_size);
    auto at_the_limit = sampler::ElfFile::load(dir.file("libpython3.11.so"), {});
    CHECK_MESSAGE(at_the_limit, at_the_limit.error().message);
}

TEST_CASE("only the symbols asked for are kept") {
    auto elf = sampler::ElfFile::load("/proc/self/exe", {.names = {"main", "no_such_symbol"}, .prefixes = {"doctest_"}});
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK(elf->symbol("main"));
    CHECK_FALSE(elf->symbol("_start"));  // defined, but not asked for
    std::vector<std::string> others;
    for (const auto& name : elf->symbols_with_prefix(""))
        if (name != "main" && !name.starts_with("doctest_")) others.push_back(name);
    CHECK_MESSAGE(others.empty(), others.size() << " others kept, such as " << others.front());
}

TEST_CASE("symbols of names longer than any pyprofd looks up are skipped") {
    const std::string longest = "version." + std::string(sampler::ElfFile::max_symbol_name_length - 8, 'x');
    ElfImage image({{longest, 0x4000}, {longest + "y", 0x5000}, {"version.0", 0x6000}});
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.prefixes = {"version."}});
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK(elf->symbol("version.0"));
    CHECK(elf->symbol(longest));
    CHECK_FALSE(elf->symbol(longest + "y"));
}

TEST_CASE("a symbol name not ended within its string table is skipped") {
    ElfImage image({{"version.0", 0x4000}, {"version.1", 0x5000}});
    auto strtab = image.section(ElfImage::strtab_index);
    strtab.sh_size -= 1;  // the table ends before "version.1"'s NUL
    image.set_section(ElfImage::strtab_index, strtab);
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.prefixes = {"version."}});
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK(elf->symbol("version.0"));
    CHECK_FALSE(elf->symbol("version.1"));
}

TEST_CASE("section names longer than any section's are skipped") {
    const std::string longest(sampler::ElfFile::max_section_name_length, 's');
    // The section names are read from .strtab, where these strings are: the first at 1.
    ElfImage image({{longest + "t", 0x4000}, {longest, 0x5000}});
    auto eh = image.header();
    eh.e_shstrndx = ElfImage::strtab_index;
    image.set_header(eh);
    auto symtab = image.section(ElfImage::symtab_index);
    symtab.sh_name = 1;
    image.set_section(ElfImage::symtab_index, symtab);
    auto strtab = image.section(ElfImage::strtab_index);
    strtab.sh_name = static_cast<std::uint32_t>(1 + longest.size() + 2);
    image.set_section(ElfImage::strtab_index, strtab);

    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {});
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK_FALSE(elf->section(longest + "t"));
    CHECK(elf->section(longest));
}

TEST_CASE("the symbols kept for a prefix are bounded, and the named ones are kept all the same") {
    std::vector<ElfImageSymbol> symbols;
    for (int i = 0; i < 2000; ++i) symbols.push_back({"version." + std::to_string(i), 0x4000});
    symbols.push_back({"PyCode_Type", 0x5000});
    ElfImage image(symbols);
    auto elf = sampler::ElfFile::parse(image.bytes(), "crafted", {.names = {"PyCode_Type"}, .prefixes = {"version."}});
    REQUIRE_MESSAGE(elf, elf.error().message);
    CHECK(elf->symbols_with_prefix("version.").size() == sampler::ElfFile::max_symbols_kept_by_prefix);
    CHECK(elf->symbol("PyCode_Type"));
}

TEST_CASE("symbol tables of more entries than any interpreter's are refused, counted over all tables") {
    // The entries lie in a hole of a sparse file: zeros, each read and skipped.
    tests::ScratchDir dir;
    ElfImage image({{"PyCode_Type", 0x4000}});
    const std::uint64_t table_at = 1 << 20;
    auto symtab = image.section(ElfImage::symtab_index);
    symtab.sh_offset = table_at;
    std::uint64_t entries = 0;
    SUBCASE("one table") {
        entries = sampler::ElfFile::max_symbols_read + 1;
        symtab.sh_size = entries * sizeof(Elf64_Sym);
        image.set_section(ElfImage::symtab_index, symtab);
    }
    SUBCASE("two section headers naming one table of half as many") {
        entries = sampler::ElfFile::max_symbols_read / 2 + 1;
        symtab.sh_size = entries * sizeof(Elf64_Sym);
        image.set_section(ElfImage::symtab_index, symtab);
        image.set_section(3, symtab);  // .shstrtab's header, now a second .symtab
    }
    image.write(dir.file("libpython3.11.so"), table_at + entries * sizeof(Elf64_Sym));
    auto elf = sampler::ElfFile::load(dir.file("libpython3.11.so"), {.names = {"PyCode_Type"}});
    CHECK_MESSAGE(mentions(elf, "its symbol tables have more than 4194304 entries"), (elf ? "loaded" : elf.error().message));

    // At the limit, the file is read.
    symtab.sh_size = (sampler::ElfFile::max_symbols_read / 2) * sizeof(Elf64_Sym);
    image.set_section(ElfImage::symtab_index, symtab);
    image.set_section(3, symtab);
    image.write(dir.file("libpython3.11.so"), table_at + entries * sizeof(Elf64_Sym));
    auto at_the_limit = sampler::ElfFile::load(dir.file("libpython3.11.so"), {.names = {"PyCode_Type"}});
    CHECK_MESSAGE(at_the_limit, at_the_limit.error().message);
}

TEST_CASE("a file its owner truncates while it is read gives an error, not a SIGBUS") {
    // Past a file's end, a mapping of it raises SIGBUS, which would end the daemon.
    // The file here is truncated between its opening and its reading, as its owner
    // can do at any moment; more than a page of symbols puts the section headers past
    // the first page.
    tests::ScratchDir dir;
    std::vector<ElfImageSymbol> symbols;
    for (int i = 0; i < 400; ++i) symbols.push_back({"symbol_" + std::to_string(i), 0x4000});
    ElfImage image(symbols);
    REQUIRE(image.bytes().size() > 3 * 4096);
    image.write(dir.file("libpython3.11.so"));
    auto file = sampler::RegularFile::open(dir.file("libpython3.11.so"));
    REQUIRE_MESSAGE(file, file.error().message);
    REQUIRE(::truncate(dir.file("libpython3.11.so").c_str(), sizeof(Elf64_Ehdr)) == 0);

    auto elf = sampler::ElfFile::load(*file, {.prefixes = {"symbol_"}});
    CHECK_MESSAGE(mentions(elf, "is not a usable ELF file: truncated"), (elf ? "loaded" : elf.error().message));
}

TEST_CASE("string tables of more bytes than any interpreter's are refused, counted over all tables") {
    // String tables are read whole: a file may not make the daemon read 64 MiB of them,
    // once or through many section headers. The tables lie in a hole of a sparse file.
    tests::ScratchDir dir;
    ElfImage image({{"PyCode_Type", 0x4000}});
    const std::uint64_t table_at = 1 << 20;
    auto strtab = image.section(ElfImage::strtab_index);
    strtab.sh_offset = table_at;
    SUBCASE("one table") { strtab.sh_size = sampler::ElfFile::max_string_bytes_read + 1; }
    SUBCASE("section names and symbol names from one table of half as many") {
        strtab.sh_size = sampler::ElfFile::max_string_bytes_read / 2 + 1;
        auto eh = image.header();
        eh.e_shstrndx = ElfImage::strtab_index;
        image.set_header(eh);
    }
    image.set_section(ElfImage::strtab_index, strtab);
    image.write(dir.file("libpython3.11.so"), table_at + strtab.sh_size);
    auto elf = sampler::ElfFile::load(dir.file("libpython3.11.so"), {.names = {"PyCode_Type"}});
    CHECK_MESSAGE(mentions(elf, "its string tables hold more than 64 MiB"), (elf ? "loaded" : elf.error().message));
}

TEST_CASE("the ELF fuzzer's seeds parse, and name an interpreter as the sampler looks for one") {
    // tests/fuzz/make_elf_seeds.py cut them from the interpreters of the test machine.
    int seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(tests::source_path("tests/fuzz/corpus/elf"))) {
        if (!entry.path().filename().string().starts_with("seed-")) continue;
        INFO(entry.path().string());
        auto elf = sampler::ElfFile::load(entry.path().string(), sampler::interpreter_symbols());
        REQUIRE_MESSAGE(elf, elf.error().message);
        CHECK(elf->symbol("PyCode_Type"));
        CHECK(elf->symbol("Py_Initialize"));
        CHECK((elf->symbol("_PyRuntime") || elf->symbol("interp_head")));
        CHECK((elf->symbol("Py_Version") || elf->symbol("version") || !elf->symbols_with_prefix("version.").empty()));
        CHECK(elf->section(".bss"));
        CHECK(!elf->load_segments().empty());
        ++seeds;
    }
    CHECK(seeds >= 10);
}
