// Where a process's files are named from: its working directory, and its standard
// library found from its interpreter's file, in trees built here. A target's owner
// makes that tree, so what is looked at stays inside the root given, and no further
// up than a bound.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sampler/source_directories.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
namespace fs = std::filesystem;

namespace {

// An empty file at root + path, its directories made.
void make_file(const tests::ScratchDir& root, const std::string& path) {
    fs::path full = root.path / fs::path(path).relative_path();
    fs::create_directories(full.parent_path());
    std::ofstream(full).put('\n');
}

std::string library_of(const tests::ScratchDir& root, const std::string& interpreter, int major = 3, int minor = 11) {
    return sampler::find_standard_library(root.path.string(), interpreter, major, minor);
}

}  // namespace

TEST_CASE("the standard library is found above the interpreter's file, in every layout") {
    tests::ScratchDir root;
    SUBCASE("an executable (Debian's static python3.11)") {
        make_file(root, "/usr/bin/python3.11");
        make_file(root, "/usr/lib/python3.11/os.py");
        CHECK(library_of(root, "/usr/bin/python3.11") == "/usr/lib/python3.11");
    }
    SUBCASE("a multiarch libpython: two levels up") {
        make_file(root, "/usr/lib/python3.11/os.py");
        CHECK(library_of(root, "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0") == "/usr/lib/python3.11");
    }
    SUBCASE("pyenv's shared build: the library beside libpython") {
        make_file(root, "/root/.pyenv/versions/3.11.7/lib/python3.11/os.py");
        // A system Python further up must not win over the nearest.
        make_file(root, "/usr/lib/python3.11/os.py");
        CHECK(library_of(root, "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0") ==
              "/root/.pyenv/versions/3.11.7/lib/python3.11");
    }
    SUBCASE("Python 2.7 with only os.pyc") {
        make_file(root, "/opt/py27/lib/python2.7/os.pyc");
        CHECK(library_of(root, "/opt/py27/bin/python2.7", 2, 7) == "/opt/py27/lib/python2.7");
        CHECK(library_of(root, "/opt/py27/bin/python2.7") == "");  // not 3.11's
    }
    SUBCASE("lib64") {
        make_file(root, "/usr/lib64/python3.11/os.py");
        CHECK(library_of(root, "/usr/bin/python3.11") == "/usr/lib64/python3.11");
    }
    SUBCASE("a prefix at the root itself") {
        make_file(root, "/lib/python3.11/os.py");
        CHECK(library_of(root, "/bin/python3.11") == "/lib/python3.11");
    }
}

TEST_CASE("what is not a regular os.py is passed over, never opened") {
    tests::ScratchDir root;
    make_file(root, "/usr/lib/python3.11/os.py");
    // Nearer candidates that are not regular files: a FIFO (opening it to read would
    // wait for a writer), a directory.
    fs::create_directories(root.path / "usr/local/lib/python3.11/os.py");
    fs::create_directories(root.path / "usr/local/lib64/python3.11");
    REQUIRE(::mkfifo((root.path / "usr/local/lib64/python3.11/os.py").c_str(), 0600) == 0);
    CHECK(library_of(root, "/usr/local/bin/python3.11") == "/usr/lib/python3.11");
}

TEST_CASE("links are followed inside the root only") {
    tests::ScratchDir root;
    // An absolute link and one that climbs out with "..": both to this host's own
    // standard library, which must not be found from inside the root.
    REQUIRE(fs::exists("/usr/lib/python3.11/os.py"));
    fs::create_directories(root.path / "a/lib");
    fs::create_symlink("/usr/lib/python3.11", root.path / "a/lib/python3.11");
    fs::create_directories(root.path / "b/lib");
    fs::create_symlink("../../../../../../../../usr/lib/python3.11", root.path / "b/lib/python3.11");
    CHECK(library_of(root, "/a/bin/python3.11") == "");
    CHECK(library_of(root, "/b/bin/python3.11") == "");
    // Inside the root, a link works as it does for the process.
    make_file(root, "/usr/lib/python3.11/os.py");
    fs::create_directories(root.path / "c/lib");
    fs::create_symlink("/usr/lib/python3.11", root.path / "c/lib/python3.11");
    CHECK(library_of(root, "/c/bin/python3.11") == "/c/lib/python3.11");
}

TEST_CASE("only so many ancestors are tried, and a path not absolute is none") {
    tests::ScratchDir root;
    make_file(root, "/lib/python3.11/os.py");
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += "/d";
    CHECK(library_of(root, deep + "/bin/python3.11") == "");
    CHECK(library_of(root, "/d/d/d/bin/python3.11") == "/lib/python3.11");
    CHECK(library_of(root, "bin/python3.11") == "");
    CHECK(library_of(root, "") == "");
}

TEST_CASE("the working directory as the process sees it, from its root") {
    const auto here = fs::current_path();
    CHECK(sampler::read_working_directory(::getpid(), "/") == here.string());
    // The process's root itself is "/" to it; a directory below it is named from it.
    CHECK(sampler::read_working_directory(::getpid(), here.string()) == "/");
    CHECK(sampler::read_working_directory(::getpid(), here.string() + "/") == "/");
    if (here != "/") {
        auto parent = here.parent_path();
        CHECK(sampler::read_working_directory(::getpid(), parent.string()) ==
              (parent == "/" ? here.string() : "/" + here.filename().string()));
    }
    // Outside its root: no name it could use.
    CHECK(sampler::read_working_directory(::getpid(), "/nonexistent-root-of-pyprofd-test") == "");
    // No such process: unknown, not an error.
    CHECK(sampler::read_working_directory(4194000, "/") == "");
}
