// PY_VERSION among an interpreter's constant strings: the version a listing of
// processes shows for a Python older than 3.11 (which has no Py_Version), read from
// its file alone. The strings here are as compilers lay them out: NUL-terminated, the
// version often the tail of a longer string that ends the same way.
#include <doctest/doctest.h>

#include <string>

#include "sampler/interpreter_file_facts.hpp"

using pyprofd::sampler::version_string_in;
using namespace std::string_literals;

namespace {

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
