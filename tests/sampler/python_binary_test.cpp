// Finding the interpreter's file in a process whose owner may be hostile: between
// the daemon's reading of /proc/PID/maps and its opening of the file, the target can
// unmap it (so that /proc/PID/map_files no longer reaches it) and put a FIFO, a
// symlink or another file at its path. Here this process, or a child run as nobody,
// is that target.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "sampler/proc_files.hpp"
#include "sampler/proc_maps.hpp"
#include "sampler/python_binary.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/elf_image.hpp"
#include "tests/support/interpreters.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using namespace std::chrono_literals;

namespace {

// Enough for defines_interpreter: whoever reads this file takes it for a CPython.
tests::ElfImage interpreter_image() { return tests::ElfImage({{"PyCode_Type", 0x4000}, {"Py_Initialize", 0x5000}}); }

std::vector<sampler::MemoryMapping> mappings_of(pid_t pid, const std::string& path) {
    auto maps = sampler::read_proc_maps(pid);
    REQUIRE_MESSAGE(maps, maps.error().message);
    std::vector<sampler::MemoryMapping> out;
    std::ranges::copy_if(*maps, std::back_inserter(out), [&](const auto& m) { return m.path == path; });
    return out;
}

// This process's mappings of path, as maps said while it was mapped; then unmapped.
std::vector<sampler::MemoryMapping> stale_mappings_of(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    REQUIRE(p != MAP_FAILED);
    auto mapped = mappings_of(::getpid(), path);
    ::munmap(p, static_cast<std::size_t>(st.st_size));
    REQUIRE(mapped.size() == 1);
    CHECK(mapped.front().inode == st.st_ino);
    return mapped;
}

// locate_python_binary on another thread; where it blocks on a FIFO, the test fails
// and then opens the FIFO's other end, so that the thread ends.
sampler::Result<sampler::PythonBinary> locate_or_unblock(pid_t pid, const std::vector<sampler::MemoryMapping>& maps,
                                                         const std::string& fifo) {
    auto locating = std::async(std::launch::async,
                               [&] { return sampler::locate_python_binary(pid, maps, "/no/such/python"); });
    if (locating.wait_for(10s) == std::future_status::timeout) {
        FAIL_CHECK("locate_python_binary blocked for 10 s");
        int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (writer >= 0) ::close(writer);
    }
    return locating.get();
}

std::string message_of(const sampler::Result<sampler::PythonBinary>& binary) {
    return binary ? "found " + binary->opened_from : binary.error().message;
}

}  // namespace

TEST_CASE("the file of a mapping gone since maps was read is opened by its path, in the process's root") {
    tests::ScratchDir dir;
    const auto library = dir.file("libpython3.11.so");
    interpreter_image().write(library);
    auto maps = stale_mappings_of(library);
    auto binary = sampler::locate_python_binary(::getpid(), maps, "/no/such/python");
    REQUIRE_MESSAGE(binary, binary.error().message);
    CHECK(binary->opened_from == "/proc/" + std::to_string(::getpid()) + "/root" + library);
    CHECK(binary->address_of("PyCode_Type"));
}

TEST_CASE("a mapped file replaced by a FIFO, or by a symlink to one, is refused at once") {
    tests::ScratchDir dir;
    const auto library = dir.file("libpython3.11.so");
    interpreter_image().write(library);
    auto maps = stale_mappings_of(library);
    std::filesystem::rename(library, dir.file("original"));  // kept: its inode is not reused
    std::string fifo = library;
    SUBCASE("a FIFO") { REQUIRE(::mkfifo(library.c_str(), 0600) == 0); }
    SUBCASE("a symlink to a FIFO") {
        fifo = dir.file("fifo");
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        std::filesystem::create_symlink(fifo, library);
    }
    auto binary = locate_or_unblock(::getpid(), maps, fifo);
    REQUIRE_FALSE_MESSAGE(binary, message_of(binary));
    CHECK(binary.error().kind == sampler::ErrorKind::not_python);
    CHECK_MESSAGE(binary.error().message.find("is a FIFO, not a regular file") != std::string::npos,
                  binary.error().message);
}

TEST_CASE("a mapped file replaced by another file is refused: it is not the inode mapped") {
    tests::ScratchDir dir;
    const auto library = dir.file("libpython3.11.so");
    interpreter_image().write(library);
    auto maps = stale_mappings_of(library);
    std::filesystem::rename(library, dir.file("original"));
    SUBCASE("a file") { interpreter_image().write(library); }
    SUBCASE("a symlink to a file") {
        interpreter_image().write(dir.file("other"));
        std::filesystem::create_symlink(dir.file("other"), library);
    }
    auto binary = sampler::locate_python_binary(::getpid(), maps, "/no/such/python");
    REQUIRE_FALSE_MESSAGE(binary, message_of(binary));
    CHECK_MESSAGE(binary.error().message.find("is not the file the process maps") != std::string::npos,
                  binary.error().message);
}

TEST_CASE("a process that maps thousands of libpythons has only a few of them tried") {
    // Mappings of files that do not exist: each costs an open that fails. The cap is
    // seen in the error, which names what was tried.
    std::vector<sampler::MemoryMapping> maps;
    for (std::uint64_t i = 0; i < 2000; ++i)
        maps.push_back({.start = 0x10000 + i * 0x1000, .end = 0x11000 + i * 0x1000, .permissions = "r--p",
                        .path = "/no/such/dir/" + std::to_string(i) + "/libpython3.11.so"});
    auto binary = sampler::locate_python_binary(::getpid(), maps, "/no/such/python");
    REQUIRE_FALSE(binary);
    const auto& message = binary.error().message;
    auto tried = std::ranges::count_if(maps, [&](const auto& m) { return message.find(m.path + " (") != std::string::npos; });
    CHECK(tried == 8);
    CHECK_MESSAGE(message.find("1992 more mappings of files named libpython*.so not tried") != std::string::npos,
                  message.substr(0, 1000));
}

TEST_CASE("a target run as nobody that swaps its libpython for a FIFO does not block the daemon") {
    if (::geteuid() != 0) {
        MESSAGE("SKIPPED: the test must run as root to run its target as nobody");
        return;
    }
    // The distribution's python3, which nobody may run (pyenv's live under /root).
    auto py = std::ranges::find_if(tests::interpreters(), [](const auto& i) { return i.label.starts_with("debian "); });
    if (py == tests::interpreters().end()) {
        MESSAGE("SKIPPED: no distribution python3 to run as nobody");
        return;
    }
    // The target's own directory, as a user's home would be.
    tests::ScratchDir dir;
    REQUIRE(::chown(dir.path.c_str(), 65534, 65534) == 0);
    const auto library = dir.file("libpython3.11.so");
    interpreter_image().write(library);
    REQUIRE(::chown(library.c_str(), 65534, 65534) == 0);
    const char* script = R"(
import mmap, os, signal, sys, time
path = sys.argv[1]
with open(path, 'rb') as f:
    mapping = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
def swap(*_):
    mapping.close()
    os.rename(path, path + '.old')
    os.mkfifo(path)
    print('swapped', flush=True)
signal.signal(signal.SIGUSR1, swap)
print('mapped', flush=True)
while True:
    time.sleep(1)
)";
    tests::ChildProcess target({.argv = {py->executable, "-c", script, library}, .cwd = dir.path.string(), .run_as = 65534});
    REQUIRE_MESSAGE(target.wait_for_line("mapped"), target.output());
    auto maps = mappings_of(target.pid(), library);
    REQUIRE(maps.size() == 1);
    target.send(SIGUSR1);
    REQUIRE_MESSAGE(target.wait_for_line("swapped"), target.output());

    auto started = std::chrono::steady_clock::now();
    auto binary = locate_or_unblock(target.pid(), maps, library);
    CHECK(std::chrono::steady_clock::now() - started < 2s);
    REQUIRE_FALSE_MESSAGE(binary, message_of(binary));
    CHECK_MESSAGE(binary.error().message.find("/proc/" + std::to_string(target.pid()) + "/root" + library +
                                              " is a FIFO, not a regular file") != std::string::npos,
                  binary.error().message);
}
