// pyprofd opens, as root, files that a target's owner controls: the interpreter's
// ELF file, found by a path the owner may have replaced with a FIFO (which would
// block the daemon), a device node (whose driver acts on open) or a symlink.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>

#include "sampler/elf_file.hpp"
#include "sampler/regular_file.hpp"
#include "tests/support/elf_image.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using namespace std::chrono_literals;

namespace {

// Loads path on another thread; where that blocks on a FIFO, the test fails and
// then opens the FIFO's other end, so that the thread ends.
sampler::Result<sampler::ElfFile> load_or_unblock(const std::string& path, const std::string& fifo) {
    auto loading = std::async(std::launch::async, [path] { return sampler::ElfFile::load(path, {}); });
    if (loading.wait_for(10s) == std::future_status::timeout) {
        FAIL_CHECK("opening " << path << " blocked for 10 s");
        int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (writer >= 0) ::close(writer);
    }
    return loading.get();
}

bool says(const sampler::Result<sampler::ElfFile>& elf, std::string_view text) {
    return !elf && elf.error().message.find(text) != std::string::npos;
}

std::uint64_t inode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

}  // namespace

TEST_CASE("a FIFO is refused at once, not waited on") {
    tests::ScratchDir dir;
    REQUIRE(::mkfifo(dir.file("libpython3.11.so").c_str(), 0600) == 0);
    auto elf = load_or_unblock(dir.file("libpython3.11.so"), dir.file("libpython3.11.so"));
    CHECK_MESSAGE(says(elf, "libpython3.11.so is a FIFO, not a regular file"), (elf ? "loaded" : elf.error().message));
}

TEST_CASE("a symlink to a FIFO is refused at once") {
    tests::ScratchDir dir;
    REQUIRE(::mkfifo(dir.file("fifo").c_str(), 0600) == 0);
    std::filesystem::create_symlink(dir.file("fifo"), dir.file("libpython3.11.so"));
    auto elf = load_or_unblock(dir.file("libpython3.11.so"), dir.file("fifo"));
    CHECK_MESSAGE(says(elf, "is a FIFO, not a regular file"), (elf ? "loaded" : elf.error().message));
}

TEST_CASE("a device node is refused without being opened") {
    // The null device's numbers, in this test's own directory: harmless to open, had
    // the reader opened it.
    tests::ScratchDir dir;
    REQUIRE(::mknod(dir.file("libpython3.11.so").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0);
    auto elf = sampler::ElfFile::load(dir.file("libpython3.11.so"), {});
    CHECK_MESSAGE(says(elf, "is a character device, not a regular file"), (elf ? "loaded" : elf.error().message));
}

TEST_CASE("a directory is refused") {
    tests::ScratchDir dir;
    std::filesystem::create_directory(dir.file("libpython3.11.so"));
    auto elf = sampler::ElfFile::load(dir.file("libpython3.11.so"), {});
    CHECK_MESSAGE(says(elf, "is a directory, not a regular file"), (elf ? "loaded" : elf.error().message));
}

TEST_CASE("a file that is not the inode expected is refused") {
    tests::ScratchDir dir;
    tests::ElfImage({{"PyCode_Type", 0x4000}}).write(dir.file("libpython3.11.so"));
    tests::ElfImage({{"PyCode_Type", 0x4000}}).write(dir.file("other"));
    auto expected = sampler::RegularFile::open(dir.file("libpython3.11.so"), inode_of(dir.file("libpython3.11.so")));
    CHECK_MESSAGE(expected, expected.error().message);
    auto other = sampler::RegularFile::open(dir.file("libpython3.11.so"), inode_of(dir.file("other")));
    REQUIRE_FALSE(other);
    CHECK_MESSAGE(other.error().message.find("is not the file the process maps") != std::string::npos,
                  other.error().message);
}

TEST_CASE("a path in a process's root resolves its symlinks inside that root") {
    // A root directory as a container's, whose owner planted links: one absolute, and
    // one climbing out with "..". Resolved as the container sees them, both stay in it.
    tests::ScratchDir root;
    tests::ScratchDir outside;
    tests::ElfImage({{"PyCode_Type", 0x4000}}).write(outside.file("secret.so"));
    std::filesystem::create_directories(root.path / "usr/lib");
    tests::ElfImage({{"PyCode_Type", 0x4000}}).write(root.file("usr/lib/real.so"));
    std::filesystem::create_symlink("/usr/lib/real.so", root.path / "usr/lib/libpython3.11.so");
    std::filesystem::create_symlink("../../../../../../../.." + outside.file("secret.so"),
                                    root.path / "usr/lib/libpython3.12.so");

    auto inside = sampler::RegularFile::open_in_root(root.path.string(), "/usr/lib/libpython3.11.so");
    REQUIRE_MESSAGE(inside, inside.error().message);
    struct stat st {};
    REQUIRE(::fstat(inside->fd(), &st) == 0);
    CHECK(st.st_ino == inode_of(root.file("usr/lib/real.so")));

    auto climbing = sampler::RegularFile::open_in_root(root.path.string(), "/usr/lib/libpython3.12.so");
    if (climbing) {
        REQUIRE(::fstat(climbing->fd(), &st) == 0);
        CHECK_MESSAGE(st.st_ino != inode_of(outside.file("secret.so")), "the link led out of the root");
    } else {
        CHECK_MESSAGE(climbing.error().message.find("No such file") != std::string::npos, climbing.error().message);
    }
}

TEST_CASE("a regular file is opened for reading, and a FIFO in a process's root is refused at once") {
    tests::ScratchDir root;
    tests::ElfImage({{"PyCode_Type", 0x4000}}).write(root.file("libpython3.11.so"));
    auto file = sampler::RegularFile::open_in_root(root.path.string(), "/libpython3.11.so");
    REQUIRE_MESSAGE(file, file.error().message);
    char magic[4] = {};
    CHECK(::pread(file->fd(), magic, sizeof magic, 0) == 4);
    CHECK(std::string_view(magic, 4) == "\177ELF");
    CHECK((::fcntl(file->fd(), F_GETFL) & O_ACCMODE) == O_RDONLY);
    CHECK((::fcntl(file->fd(), F_GETFD) & FD_CLOEXEC) != 0);

    REQUIRE(::mkfifo(root.file("libpython3.12.so").c_str(), 0600) == 0);
    auto opening = std::async(std::launch::async,
                              [&] { return sampler::RegularFile::open_in_root(root.path.string(), "/libpython3.12.so"); });
    if (opening.wait_for(10s) == std::future_status::timeout) {
        FAIL_CHECK("opening a FIFO blocked for 10 s");
        int writer = ::open(root.file("libpython3.12.so").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (writer >= 0) ::close(writer);
    }
    auto fifo = opening.get();
    REQUIRE_FALSE(fifo);
    CHECK_MESSAGE(fifo.error().message.find("is a FIFO") != std::string::npos, fifo.error().message);
}
