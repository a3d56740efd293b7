// PY_VERSION among an interpreter's constant strings: the version a listing of
// processes shows for a Python older than 3.11 (which has no Py_Version), read from
// its file alone. The strings here are as compilers lay them out: NUL-terminated, the
// version often the tail of a longer string that ends the same way.
#include <doctest/doctest.h>
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <string>

#include "sampler/interpreter_file_facts.hpp"
#include "tests/support/elf_image.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using pyprofd::sampler::version_string_in;
using namespace std::string_literals;

namespace {

// An ELF file of these symbols whose Py_Version (if one is named) holds `hex`: the
// image's one loadable segment maps the file from address 0, so the constant goes
// at its end, the segment grown to hold it.
std::string interpreter_file(const tests::ScratchDir& dir, const std::string& name, std::vector<std::string> symbols,
                             std::uint64_t hex) {
    std::vector<tests::ElfImageSymbol> image_symbols;
    for (const auto& s : symbols) image_symbols.push_back({s, 0});
    tests::ElfImage sized(image_symbols);
    const std::uint64_t at = sized.bytes().size();  // the same size with the real values
    for (auto& s : image_symbols) s.value = s.name == "Py_Version" ? at : 0x40;
    tests::ElfImage image(image_symbols);
    auto path = dir.file(name);
    image.write(path);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto phdr = image.program_header();
    phdr.p_filesz = phdr.p_memsz = at + sizeof hex;
    CHECK(::pwrite(fd, &hex, sizeof hex, static_cast<off_t>(at)) == sizeof hex);
    CHECK(::pwrite(fd, &phdr, sizeof phdr, sizeof(Elf64_Ehdr)) == sizeof phdr);
    ::close(fd);
    return path;
}

std::string version_read(const std::string& path, const std::string& as_named) {
    auto file = sampler::RegularFile::open(path);
    REQUIRE(file);
    auto facts = sampler::read_interpreter_file_facts(*file, as_named);
    REQUIRE_MESSAGE(facts, facts.error().message);
    if (!facts->defines_interpreter) return "not an interpreter";
    return facts->version ? facts->version->to_string() : "none";
}

std::string found(const std::string& constants, int major, int minor) {
    auto v = version_string_in(constants, major, minor);
    return v ? v->to_string() : "none";
}

}  // namespace

TEST_CASE("interpreter file: PY_VERSION found alone, or as the tail of the prefix it was merged into") {
    CHECK(found("\0"s + "3.9.18\0python3.9\0"s, 3, 9) == "3.9.18");
    CHECK(found("x\0/root/.pyenv/versions/3.9.18\0python3.9\0"s, 3, 9) == "3.9.18");
    CHECK(found("abc\0/opt/python/3.10.13\0"s, 3, 10) == "3.10.13");
    CHECK(found("\0"s + "2.7.18\0"s, 2, 7) == "2.7.18");
    // Release suffixes, and Debian's "+" for a build past its tag.
    CHECK(found("\0"s + "3.12.0+\0"s, 3, 12) == "3.12.0+");
    CHECK(found("\0"s + "3.13.0rc2\0"s, 3, 13) == "3.13.0rc2");
    CHECK(found("\0"s + "3.8.0b4\0"s, 3, 8) == "3.8.0b4");
    // The same version twice is one version.
    CHECK(found("\0"s + "3.9.18\0/p/3.9.18\0"s, 3, 9) == "3.9.18");
}

TEST_CASE("interpreter file: anything else is not taken for the version") {
    // Another minor version's string (a library's "3.2.0" in Debian's python3.11).
    CHECK(found("\0"s + "3.2.0\0"s, 3, 11) == "none");
    // Two versions of the same minor: which one is the interpreter's cannot be told.
    CHECK(found("\0"s + "3.9.18\0"s + "3.9.1\0"s, 3, 9) == "none");
    // Not ended by a NUL (part of a sentence), or the tail of a longer number.
    CHECK(found("\0deprecated since 3.9.0 and\0"s, 3, 9) == "none");
    CHECK(found("\0" "13.9.18\0"s, 3, 9) == "none");
    CHECK(found("\0" "1.3.9.18\0"s, 3, 9) == "none");
    // A suffix that is no release's.
    CHECK(found("\0" "3.9.18abc\0"s, 3, 9) == "none");
    CHECK(found("\0" "3.9.x\0"s, 3, 9) == "none");
    // Cut off at the end of the section.
    CHECK(found("\0" "3.9.18"s, 3, 9) == "none");
    CHECK(found(""s, 3, 9) == "none");
}

TEST_CASE("interpreter file: Py_Version is read from the file, where it agrees with the file's name") {
    tests::ScratchDir dir;
    const std::vector<std::string> interpreter = {"PyCode_Type", "Py_Initialize", "Py_Version"};
    auto shared = interpreter_file(dir, "libpython3.12.so.1.0", interpreter, 0x030C01F0);
    CHECK(version_read(shared, "/usr/lib/libpython3.12.so.1.0") == "3.12.1");
    auto candidate = interpreter_file(dir, "python3.13", interpreter, 0x030D00C2);
    CHECK(version_read(candidate, "/usr/bin/python3.13") == "3.13.0rc2");
    // A name without a version: Py_Version alone says it.
    CHECK(version_read(candidate, "/usr/bin/python") == "3.13.0rc2");
    // A name that says another minor version: the name's major.minor, not a number that
    // contradicts it.
    CHECK(version_read(shared, "/usr/lib/libpython3.11.so.1.0") == "3.11");
    // Not a version Py_Version can hold (it came with 3.11).
    auto old = interpreter_file(dir, "libpython3.9.so", interpreter, 0x030912F0);
    CHECK(version_read(old, "/usr/lib/libpython3.9.so") == "3.9");
    CHECK(version_read(old, "/usr/lib/libpython.so") == "none");
    // Py_InitializeEx stands for Py_Initialize, as when attaching.
    auto ex = interpreter_file(dir, "python3.12", {"PyCode_Type", "Py_InitializeEx", "Py_Version"}, 0x030C01F0);
    CHECK(version_read(ex, "/usr/bin/python3.12") == "3.12.1");
}

TEST_CASE("interpreter file: a file that does not define the interpreter, or is too large, says so") {
    tests::ScratchDir dir;
    auto links_only = interpreter_file(dir, "python3.12", {"Py_Version", "Py_Initialize"}, 0x030C01F0);
    CHECK(version_read(links_only, "/usr/bin/python3.12") == "not an interpreter");
    tests::ElfImage huge({{"PyCode_Type", 0x40}, {"Py_Initialize", 0x40}});
    auto path = dir.file("libpython3.12.so");
    huge.write(path, sampler::max_interpreter_file_bytes + 1);  // a hole: no disk taken
    auto file = sampler::RegularFile::open(path);
    REQUIRE(file);
    auto facts = sampler::read_interpreter_file_facts(*file, path);
    REQUIRE_FALSE(facts);
    CHECK(facts.error().message.find("more than an interpreter's file may be") != std::string::npos);
}
