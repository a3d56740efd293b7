// Where `pyprofd record -o` and `render -o` write on the host, through the real
// binary: into a FIFO and a device node in place (they stay what they are), to
// /dev/stdout, and never over a directory. Every file is in the test's own
// scratch directory, except the process's own standard output.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "tests/integration/record_support.hpp"
#include "tests/support/null_device.hpp"

using namespace pyprofd::tests;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::set<std::string> names_in(const ScratchDir& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path)) names.insert(entry.path().filename().string());
    return names;
}

mode_t type_of(const std::string& path) {
    struct stat st {};
    REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
    return st.st_mode & S_IFMT;
}

// A deep.py target of the newest interpreter, for a short recording.
struct RecordedTarget {
    RecordedTarget() : target(interpreters().back(), {target_path("deep.py"), "5"}) { REQUIRE(target.ready); }
    std::vector<std::string> args(const std::string& output) const {
        return {"--pid", std::to_string(target.pid()), "--duration", "0.5", "--format", "folded", "-o", output};
    }
    std::string leaf() const { return "leaf (" + target_path("deep.py"); }
    Target target;
};

std::string wrote_line(const std::string& what) {
    return "Wrote " + what + R"(: \d+ samples, 0 errors, behind schedule \d+\.\d%)";
}

}  // namespace

TEST_CASE("record -o FIFO: the reader gets the profile, and the FIFO stays a FIFO") {
    REQUIRE(!interpreters().empty());
    RecordedTarget recorded;
    ScratchDir dir;
    auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto copy = dir.file("copy");
    ChildProcess reader({.argv = {"/bin/sh", "-c", "exec cat \"$1\" > \"$2\"", "sh", fifo, copy}});
    auto r = run_record(recorded.args(fifo));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(std::regex_match(last_line(r.err), std::regex(wrote_line(fifo))));
    // Had the FIFO been replaced, cat would still wait for a writer.
    auto status = reader.wait_for_exit(10s);
    REQUIRE_MESSAGE(status.has_value(), "the FIFO's reader got no end of input: was the FIFO replaced?");
    CHECK(*status == 0);
    CHECK(read_folded_file(copy).samples_containing(recorded.leaf()) > 0);
    CHECK(type_of(fifo) == S_IFIFO);
    CHECK(names_in(dir) == std::set<std::string>{"fifo", "copy"});
}

TEST_CASE("record -o FIFO without a reader waits for one, saying so; Ctrl-C gives up the wait") {
    REQUIRE(!interpreters().empty());
    RecordedTarget recorded;
    ScratchDir dir;
    auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::vector<std::string> argv = {pyprofd_binary(), "record"};
    for (auto& a : recorded.args(fifo)) argv.push_back(a);
    ChildProcess pyprofd({.argv = argv});
    REQUIRE_MESSAGE(pyprofd.wait_for_line("pyprofd: waiting for a reader of the FIFO " + fifo + " (Ctrl-C gives up)", 30s),
                    pyprofd.output());
    pyprofd.send(SIGINT);
    auto status = pyprofd.wait_for_exit(10s);
    REQUIRE_MESSAGE(status.has_value(), "still waiting after Ctrl-C:\n" << pyprofd.output());
    CHECK(*status == 1);
    CHECK(last_line(pyprofd.output()) == "pyprofd: cannot write " + fifo + ": no reader opened it; given up");
    CHECK(type_of(fifo) == S_IFIFO);
    CHECK(names_in(dir) == std::set<std::string>{"fifo"});
}

TEST_CASE("record -o a null device node: written to in place, and it stays the device it was") {
    REQUIRE(!interpreters().empty());
    RecordedTarget recorded;
    ScratchDir dir;
    auto null = make_null_device(dir);
    auto r = run_record(recorded.args(null));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(std::regex_match(last_line(r.err), std::regex(wrote_line(null))));
    struct stat st {};
    REQUIRE(::lstat(null.c_str(), &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(::major(st.st_rdev) == 1);
    CHECK(::minor(st.st_rdev) == 3);
    CHECK((st.st_mode & 0777) == 0666);
    CHECK(names_in(dir) == std::set<std::string>{"null"});  // no temporary file beside it
}

TEST_CASE("record -o /dev/stdout writes to standard output, as does a link of one's own to it") {
    REQUIRE(!interpreters().empty());
    RecordedTarget recorded;
    SUBCASE("/dev/stdout") {
        auto r = run_record(recorded.args("/dev/stdout"));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(r.out.find(recorded.leaf()) != std::string::npos);
        CHECK(std::regex_match(last_line(r.err), std::regex(wrote_line("/dev/stdout"))));
    }
    SUBCASE("a link to /proc/self/fd/1, made as /dev/stdout is") {
        ScratchDir dir;
        fs::create_symlink("/proc/self/fd/1", dir.path / "stdout");
        auto r = run_record(recorded.args(dir.file("stdout")));
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        CHECK(r.out.find(recorded.leaf()) != std::string::npos);
        CHECK(type_of(dir.file("stdout")) == S_IFLNK);
        CHECK(names_in(dir) == std::set<std::string>{"stdout"});
    }
}

TEST_CASE("record -o a directory, or in a missing one, is refused before sampling, saying so") {
    REQUIRE(!interpreters().empty());
    RecordedTarget recorded;
    ScratchDir dir;
    fs::create_directory(dir.path / "out");
    auto args = recorded.args(dir.file("out"));
    args[3] = "30";  // --duration: the refusal must not wait for the end of the recording
    auto r = run_record(args);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "pyprofd: cannot write " + dir.file("out") + ": it is a directory; name a file in it\n");
    CHECK(fs::is_empty(dir.path / "out"));
    CHECK(names_in(dir) == std::set<std::string>{"out"});

    auto missing = recorded.args(dir.file("no/such/p.folded"));
    missing[3] = "30";
    auto m = run_record(missing);
    CHECK(m.exit_code == 1);
    CHECK(m.err == "pyprofd: cannot write " + dir.file("no/such/p.folded") +
                       ": cannot open its directory: No such file or directory\n");
}

TEST_CASE("render -o through a link replaces the file it leads to; -o /dev/stdout writes to standard output") {
    ScratchDir dir;
    std::ofstream(dir.file("in.folded")) << "main;work 3\nmain 1\n";
    std::ofstream(dir.file("old.folded")) << "old\n";
    fs::create_symlink("old.folded", dir.path / "link.folded");
    auto r = run_command({.argv = {pyprofd_binary(), "render", dir.file("in.folded"), "-o", dir.file("link.folded")}});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(type_of(dir.file("link.folded")) == S_IFLNK);
    std::ifstream old(dir.file("old.folded"));
    std::string text;
    std::getline(old, text, '\0');
    CHECK(text == "main 1\nmain;work 3\n");

    auto out = run_command({.argv = {pyprofd_binary(), "render", "-f", "folded", dir.file("in.folded"), "-o", "/dev/stdout"}});
    REQUIRE_MESSAGE(out.exit_code == 0, out.err);
    CHECK(out.out == "main 1\nmain;work 3\n");
}
