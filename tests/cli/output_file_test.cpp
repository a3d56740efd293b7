// Where output goes on the host: a regular file is replaced atomically (through a
// link, the file and not the link), a device or FIFO is written in place and stays
// what it is, a directory is refused. Every file here is in the test's own
// scratch directory.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "daemon/atomic_file.hpp"
#include "cli/output_file.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/null_device.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using pyprofd::tests::ScratchDir;
namespace fs = std::filesystem;

namespace {

// The error of a failed write, for messages ("" when it succeeded).
std::string error_of(const std::expected<void, std::string>& result) { return result ? "" : result.error(); }

auto writing(const std::string& text) {
    return [text](std::ostream& out) { out << text; };
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text;
    std::getline(in, text, '\0');
    return text;
}

std::string read_descriptor(int fd) {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    return text;
}

struct stat stat_of(const std::string& path, bool follow = false) {
    struct stat st {};
    REQUIRE_MESSAGE((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) == 0, path);
    return st;
}

std::set<std::string> names_in(const ScratchDir& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path)) names.insert(entry.path().filename().string());
    return names;
}

// A profile larger than a pipe holds, so a FIFO's reader must keep up with the writer.
std::string large_text() {
    std::string text;
    for (int i = 0; text.size() < 300'000; ++i) text += "main;work;step_" + std::to_string(i) + " 1\n";
    return text;
}

}  // namespace

TEST_CASE("a regular file is replaced atomically: a reader of the old one keeps the old contents") {
    ScratchDir dir;
    auto path = dir.file("profile.folded");
    std::ofstream(path) << "old contents\n";
    ::chmod(path.c_str(), 0640);
    auto before = stat_of(path);
    int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(reader >= 0);

    auto written = cli::write_output_file(path, writing("new contents\n"));
    REQUIRE_MESSAGE(written, error_of(written));

    CHECK(read_file(path) == "new contents\n");
    CHECK(read_descriptor(reader) == "old contents\n");  // it holds the old file, whole
    ::close(reader);
    auto after = stat_of(path);
    CHECK(S_ISREG(after.st_mode));
    CHECK(after.st_ino != before.st_ino);  // a new file renamed into place, not the old one rewritten
    CHECK((after.st_mode & 0777) == 0640);  // its permissions kept
    CHECK(names_in(dir) == std::set<std::string>{"profile.folded"});  // no temporary file left
}

TEST_CASE("a new name is created") {
    ScratchDir dir;
    auto path = dir.file("new.svg");
    auto written = cli::write_output_file(path, writing("<svg/>\n"));
    REQUIRE_MESSAGE(written, error_of(written));
    CHECK(read_file(path) == "<svg/>\n");
    CHECK(S_ISREG(stat_of(path).st_mode));
    CHECK(names_in(dir) == std::set<std::string>{"new.svg"});
}

TEST_CASE("through a symbolic link the file it leads to is replaced, and the link stays a link") {
    ScratchDir dir;
    fs::create_directory(dir.path / "real");
    auto target = dir.file("real/profile.folded");
    std::ofstream(target) << "old\n";
    fs::create_symlink("real/profile.folded", dir.path / "link");  // relative, as links often are
    fs::create_symlink(dir.path / "link", dir.path / "link-to-link");

    SUBCASE("one link") {
        auto written = cli::write_output_file(dir.file("link"), writing("new\n"));
        REQUIRE_MESSAGE(written, error_of(written));
    }
    SUBCASE("a link to a link") {
        auto written = cli::write_output_file(dir.file("link-to-link"), writing("new\n"));
        REQUIRE_MESSAGE(written, error_of(written));
    }
    CHECK(read_file(target) == "new\n");
    CHECK(S_ISLNK(stat_of(dir.file("link")).st_mode));
    CHECK(fs::read_symlink(dir.path / "link") == "real/profile.folded");
    CHECK(S_ISLNK(stat_of(dir.file("link-to-link")).st_mode));
    CHECK(names_in(dir) == std::set<std::string>{"real", "link", "link-to-link"});
}

TEST_CASE("a dangling symbolic link gets its target created, and stays a link") {
    ScratchDir dir;
    fs::create_directory(dir.path / "out");
    fs::create_symlink("out/profile.svg", dir.path / "link");
    auto written = cli::write_output_file(dir.file("link"), writing("<svg/>\n"));
    REQUIRE_MESSAGE(written, error_of(written));
    CHECK(S_ISLNK(stat_of(dir.file("link")).st_mode));
    CHECK(read_file(dir.file("out/profile.svg")) == "<svg/>\n");
}

TEST_CASE("a FIFO is written in place: its reader gets the whole profile, and it stays a FIFO") {
    ScratchDir dir;
    auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto text = large_text();
    // A reader of its own, into a file: were the FIFO replaced, it would wait for a
    // writer until killed.
    auto copy = dir.file("copy");
    tests::ChildProcess reader({.argv = {"/bin/sh", "-c", "exec cat \"$1\" > \"$2\"", "sh", fifo, copy}});
    auto written = cli::write_output_file(fifo, writing(text));
    REQUIRE_MESSAGE(written, error_of(written));
    auto status = reader.wait_for_exit(std::chrono::seconds(10));
    REQUIRE_MESSAGE(status.has_value(), "the FIFO's reader got no end of input: was the FIFO replaced?");
    CHECK(*status == 0);
    auto received = read_file(copy);
    CHECK(received.size() == text.size());
    CHECK(received == text);
    CHECK(S_ISFIFO(stat_of(fifo).st_mode));
    CHECK(names_in(dir) == std::set<std::string>{"fifo", "copy"});
}

TEST_CASE("a FIFO without a reader yet: the wait is said once, and a reader that comes later gets the profile") {
    ScratchDir dir;
    auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto copy = dir.file("copy");
    std::optional<tests::ChildProcess> reader;
    int waits = 0;
    cli::ReaderWait wait{.waiting =
                                [&] {
                                    ++waits;
                                    reader.emplace(tests::SpawnOptions{
                                        .argv = {"/bin/sh", "-c", "exec cat \"$1\" > \"$2\"", "sh", fifo, copy}});
                                },
                            .give_up = [] { return false; }};
    auto written = cli::write_output_file(fifo, writing("a;b 1\n"), wait);
    REQUIRE_MESSAGE(written, error_of(written));
    CHECK(waits == 1);
    REQUIRE(reader);
    REQUIRE(reader->wait_for_exit(std::chrono::seconds(10)) == 0);
    CHECK(read_file(copy) == "a;b 1\n");
    CHECK(S_ISFIFO(stat_of(fifo).st_mode));
}

TEST_CASE("a wait for a FIFO's reader ends when asked, with nothing written") {
    ScratchDir dir;
    auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    int asked = 0;
    cli::ReaderWait wait{.waiting = [] {}, .give_up = [&] { return ++asked == 3; }};
    auto written = cli::write_output_file(fifo, writing("a;b 1\n"), wait);
    REQUIRE_FALSE(written);
    CHECK(written.error() == "cannot write " + fifo + ": no reader opened it; given up");
    CHECK(asked == 3);
    CHECK(S_ISFIFO(stat_of(fifo).st_mode));
    CHECK(names_in(dir) == std::set<std::string>{"fifo"});
}

TEST_CASE("a character device is written in place and stays the same device") {
    ScratchDir dir;
    auto null = tests::make_null_device(dir);
    auto written = cli::write_output_file(null, writing(large_text()));
    REQUIRE_MESSAGE(written, error_of(written));
    auto st = stat_of(null);
    CHECK(S_ISCHR(st.st_mode));
    CHECK(::major(st.st_rdev) == 1);
    CHECK(::minor(st.st_rdev) == 3);
    CHECK((st.st_mode & 0777) == 0666);
    CHECK(names_in(dir) == std::set<std::string>{"null"});  // no temporary file beside it

    SUBCASE("through a symbolic link too") {
        fs::create_symlink(null, dir.path / "sink");
        auto through = cli::write_output_file(dir.file("sink"), writing("a;b 1\n"));
        REQUIRE_MESSAGE(through, error_of(through));
        CHECK(S_ISCHR(stat_of(null).st_mode));
        CHECK(S_ISLNK(stat_of(dir.file("sink")).st_mode));
    }
}

TEST_CASE("a device that refuses the write is reported, and stays a device") {
    ScratchDir dir;
    auto full = dir.file("full");
    REQUIRE(::mknod(full.c_str(), S_IFCHR | 0666, ::makedev(1, 7)) == 0);  // /dev/full: every write fails
    auto written = cli::write_output_file(full, writing("a;b 1\n"));
    REQUIRE_FALSE(written);
    CHECK(written.error() == "cannot write " + full + ": No space left on device");
    CHECK(S_ISCHR(stat_of(full).st_mode));
}

TEST_CASE("our own descriptors (/dev/stdout, /dev/fd/N, /proc/self/fd/N) are written through, in place") {
    ScratchDir dir;
    SUBCASE("a pipe") {
        for (std::string directory : {"/proc/self/fd/", "/dev/fd/", "/proc/thread-self/fd/"}) {
            CAPTURE(directory);
            int ends[2];
            REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
            auto written = cli::write_output_file(directory + std::to_string(ends[1]), writing("a;b 1\n"));
            ::close(ends[1]);
            CHECK_MESSAGE(written, error_of(written));
            CHECK(read_descriptor(ends[0]) == (written ? "a;b 1\n" : ""));
            ::close(ends[0]);
        }
    }
    SUBCASE("a file opened for appending, through a link as /dev/stdout is one") {
        auto log = dir.file("log");
        std::ofstream(log) << "before\n";
        int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        REQUIRE(fd >= 0);
        fs::create_symlink("/proc/self/fd/" + std::to_string(fd), dir.path / "stdout");
        auto written = cli::write_output_file(dir.file("stdout"), writing("a;b 1\n"));
        ::close(fd);
        REQUIRE_MESSAGE(written, error_of(written));
        CHECK(read_file(log) == "before\na;b 1\n");  // appended: not truncated, not replaced
        CHECK(S_ISLNK(stat_of(dir.file("stdout")).st_mode));
    }
    SUBCASE("one that is not open") {
        int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        ::close(fd);
        auto written = cli::write_output_file("/proc/self/fd/" + std::to_string(fd), writing("x"));
        REQUIRE_FALSE(written);
        CHECK(written.error().find("it is not open") != std::string::npos);
    }
}

TEST_CASE("a directory is refused, saying so") {
    ScratchDir dir;
    fs::create_directory(dir.path / "out");
    auto written = cli::write_output_file(dir.file("out"), writing("x"));
    REQUIRE_FALSE(written);
    CHECK(written.error() == "cannot write " + dir.file("out") + ": it is a directory; name a file in it");
    CHECK(fs::is_directory(dir.path / "out"));
    CHECK(fs::is_empty(dir.path / "out"));

    auto through_link = (fs::create_symlink("out", dir.path / "link"), cli::write_output_file(dir.file("link"), writing("x")));
    REQUIRE_FALSE(through_link);
    CHECK(through_link.error() == "cannot write " + dir.file("link") + " (which leads to " + dir.file("out") +
                                      "): it is a directory; name a file in it");
}

TEST_CASE("a block device and a socket are refused; a missing directory is named") {
    ScratchDir dir;
    auto disk = dir.file("disk");
    // Major 0 is no driver's: even a write that got through would reach nothing.
    REQUIRE(::mknod(disk.c_str(), S_IFBLK | 0600, ::makedev(0, 0)) == 0);
    auto to_disk = cli::write_output_file(disk, writing("x"));
    REQUIRE_FALSE(to_disk);
    CHECK(to_disk.error().find("cannot write " + disk + ": it is a block device") == 0);
    CHECK(S_ISBLK(stat_of(disk).st_mode));

    auto missing = cli::write_output_file(dir.file("no/such/dir/p.svg"), writing("x"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == "cannot write " + dir.file("no/such/dir/p.svg") +
                                 ": cannot open its directory: No such file or directory");
}

TEST_CASE("the check before writing says what the write would, and writes nothing") {
    ScratchDir dir;
    fs::create_directory(dir.path / "out");
    auto fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::ofstream(dir.file("old.svg")) << "old\n";
    fs::create_symlink("old.svg", dir.path / "link");

    CHECK(cli::check_output_file(dir.file("new.svg")));
    CHECK(cli::check_output_file(dir.file("old.svg")));
    CHECK(cli::check_output_file(dir.file("link")));
    CHECK(cli::check_output_file(fifo));  // not opened: that would wait for a reader
    CHECK(cli::check_output_file("/dev/stdout"));

    auto directory = cli::check_output_file(dir.file("out"));
    REQUIRE_FALSE(directory);
    CHECK(directory.error() == "cannot write " + dir.file("out") + ": it is a directory; name a file in it");
    auto missing = cli::check_output_file(dir.file("no/p.svg"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == "cannot write " + dir.file("no/p.svg") + ": cannot open its directory: No such file or directory");
    auto in_dev = cli::check_output_file("/dev/pyprofd-no-such-device");  // only looked at
    REQUIRE_FALSE(in_dev);
    CHECK(in_dev.error() == "cannot write /dev/pyprofd-no-such-device: there is no such device, and pyprofd creates "
                            "no files in /dev");

    CHECK(read_file(dir.file("old.svg")) == "old\n");
    CHECK(names_in(dir) == std::set<std::string>{"out", "fifo", "old.svg", "link"});
    CHECK(fs::is_empty(dir.path / "out"));
}

TEST_CASE("the atomic writer alone replaces only regular files, never a link or a device in their place") {
    ScratchDir dir;
    std::ofstream(dir.file("real")) << "real\n";
    fs::create_symlink("real", dir.path / "link");
    auto link = daemon::write_file_atomically(dir.file("link"), writing("x"));
    REQUIRE_FALSE(link);
    CHECK(link.error() == "cannot write " + dir.file("link") +
                              ": it is a symbolic link, which pyprofd does not replace with a file");
    CHECK(S_ISLNK(stat_of(dir.file("link")).st_mode));
    CHECK(read_file(dir.file("real")) == "real\n");

    auto null = tests::make_null_device(dir);
    auto device = daemon::write_file_atomically(null, writing("x"));
    REQUIRE_FALSE(device);
    CHECK(device.error().find("it is a character device") != std::string::npos);
    CHECK(S_ISCHR(stat_of(null).st_mode));
    CHECK(names_in(dir) == std::set<std::string>{"real", "link", "null"});
}

TEST_CASE("the atomic writer: a name turned into a link while the file was written is left alone") {
    ScratchDir dir;
    auto path = dir.file("p.folded");
    std::ofstream(path) << "old\n";
    auto written = daemon::write_file_atomically(path, [&](std::ostream& out) {
        fs::remove(path);
        fs::create_symlink("elsewhere", path);
        out << "new\n";
    });
    REQUIRE_FALSE(written);
    CHECK(written.error() == "cannot write " + path +
                                 ": it became a symbolic link while it was written, which pyprofd does not replace "
                                 "with a file");
    CHECK(S_ISLNK(stat_of(path).st_mode));
    CHECK(names_in(dir) == std::set<std::string>{"p.folded"});  // the temporary file removed
}

TEST_CASE("the atomic writer: a write that throws leaves the old file and no temporary file") {
    ScratchDir dir;
    auto path = dir.file("p.folded");
    std::ofstream(path) << "old\n";
    CHECK_THROWS_AS(daemon::write_file_atomically(path,
                                                  [](std::ostream& out) {
                                                      out << "half";
                                                      throw std::runtime_error("rendering failed");
                                                  }),
                    std::runtime_error);
    CHECK(read_file(path) == "old\n");
    CHECK(names_in(dir) == std::set<std::string>{"p.folded"});
}

TEST_CASE("a replaced file keeps its owner and permissions") {
    ScratchDir dir;
    auto path = dir.file("p.svg");
    std::ofstream(path) << "old\n";
    REQUIRE(::chown(path.c_str(), 65534, 65534) == 0);  // nobody's, as a user's own file would be
    REQUIRE(::chmod(path.c_str(), 0604) == 0);
    auto written = cli::write_output_file(path, writing("new\n"));
    REQUIRE_MESSAGE(written, error_of(written));
    auto st = stat_of(path);
    CHECK(st.st_uid == 65534);
    CHECK(st.st_gid == 65534);
    CHECK((st.st_mode & 0777) == 0604);
    CHECK(read_file(path) == "new\n");
}

TEST_CASE("no regular file is created or replaced in /dev, but /dev/shm is a place for files") {
    // Checked by name only: the test must not write to the host's /dev.
    CHECK(daemon::is_device_directory("/dev"));
    CHECK(daemon::is_device_directory("/dev/disk/by-id"));
    CHECK_FALSE(daemon::is_device_directory("/dev/shm"));
    CHECK_FALSE(daemon::is_device_directory("/dev/shm/profiles"));
    CHECK_FALSE(daemon::is_device_directory("/devices"));
    CHECK_FALSE(daemon::is_device_directory("/tmp"));
    CHECK_FALSE(daemon::is_device_directory("/"));
}
