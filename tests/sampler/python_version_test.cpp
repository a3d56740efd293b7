#include <doctest/doctest.h>

#include "sampler/python_version.hpp"
#include "sampler/version_detection.hpp"

using namespace pyprofd::sampler;

TEST_CASE("versions from PY_VERSION_HEX") {
    CHECK(PythonVersion::from_hex(0x030b07f0).to_string() == "3.11.7");
    CHECK(PythonVersion::from_hex(0x030d00c1).to_string() == "3.13.0rc1");
    CHECK(PythonVersion::from_hex(0x030e00a3).to_string() == "3.14.0a3");
    CHECK(PythonVersion::from_hex(0x020712f0).family() == "2.7");
}

TEST_CASE("versions from Py_GetVersion() text") {
    auto v = PythonVersion::parse("3.9.18 (main, Nov  1 2023, 12:00:00) \n[GCC 12.2.0]");
    REQUIRE(v);
    CHECK(v->to_string() == "3.9.18");
    auto rc = PythonVersion::parse("3.10.0rc2+ (heads/3.10:abc, ...)");
    REQUIRE(rc);
    CHECK(rc->to_string() == "3.10.0rc2+");
    CHECK_FALSE(PythonVersion::parse("4.0.0 (x)"));
    CHECK_FALSE(PythonVersion::parse("3.x"));
    CHECK_FALSE(PythonVersion::parse(""));
}

TEST_CASE("major.minor from file names") {
    CHECK(version_from_file_name("/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0")->family() == "3.9");
    CHECK(version_from_file_name("/usr/lib/libpython3.7m.so.1.0")->family() == "3.7");
    CHECK(version_from_file_name("/usr/bin/python3.11")->family() == "3.11");
    CHECK(version_from_file_name("/usr/bin/python2.7")->family() == "2.7");
    CHECK(version_from_file_name("/usr/bin/python3.11")->micro == -1);
    CHECK_FALSE(version_from_file_name("/usr/bin/python3"));
    CHECK_FALSE(version_from_file_name("/usr/bin/myapp"));
}
