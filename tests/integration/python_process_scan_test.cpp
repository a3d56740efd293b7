// Finding the Python processes of a host without attaching to any: real interpreters
// of every kind here (pyenv's shared libpython, Debian's static python3.11, Debian
// sid's 3.14 and 3.15 chrooted into their root) are each listed with the exact
// version the interpreter itself reports, read from its file alone; a process that
// is not Python is not, even one whose executable is named python; and what a
// process says of itself (a command line of any length and bytes) stays bounded.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "sampler/python_process_scan.hpp"
#include "tests/integration/dump_support.hpp"
#include "tests/support/scratch_dir.hpp"
#include "tests/support/sleeping_child.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;
namespace fs = std::filesystem;

namespace {

// Parks two threads besides the main one, says READY, and sleeps: in 2.7 too.
const std::string parked_target =
    "import sys, threading, time\n"
    "def park():\n"
    "    time.sleep(600)\n"
    "for _ in range(2):\n"
    "    t = threading.Thread(target=park)\n"
    "    t.daemon = True\n"
    "    t.start()\n"
    "sys.stdout.write('READY\\n')\n"
    "sys.stdout.flush()\n"
    "time.sleep(600)\n";

// What the interpreter says its version is (sys.version's first word).
std::string reported_version(const Interpreter& py) {
    auto r = run_command(py.spawn({"-c", "import sys; sys.stdout.write(sys.version.split()[0])"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
}

const sampler::PythonProcessListing* listed(const sampler::PythonProcessScanResult& scan, pid_t pid) {
    auto at = std::ranges::find(scan.processes, pid, &sampler::PythonProcessListing::pid);
    return at == scan.processes.end() ? nullptr : &*at;
}

}  // namespace

TEST_CASE("every interpreter here is listed with its exact version, threads, command line and start") {
    sampler::PythonProcessScan scan;
    bool shared = false, built_in = false;
    for (const auto& py : interpreters()) {
        CAPTURE(py.label);
        auto before = std::chrono::system_clock::now() - std::chrono::seconds(2);
        Target target(py, {"-c", parked_target});
        REQUIRE(target.ready);
        auto found = scan.inspect(target.pid());
        REQUIRE_MESSAGE(found, "not listed: verdict " << static_cast<int>(found.error()));
        CHECK(found->pid == target.pid());
        CHECK(found->uid == ::getuid());
        REQUIRE(found->version);
        CHECK(found->version->to_string() == reported_version(py));
        CHECK(found->threads == 3);
        CHECK(found->command_line == std::vector<std::string>{py.executable, "-c", parked_target});
        CHECK(found->executable == fs::canonical(py.root.empty() ? py.executable : py.root + py.executable)
                                       .string()
                                       .substr(py.root.size()));
        // Start times count in clock ticks from boot: to the hundredth of a second.
        CHECK(found->started >= before);
        CHECK(found->started <= std::chrono::system_clock::now() + std::chrono::seconds(1));
        CHECK_FALSE(found->other_pid_namespace);
        CHECK(found->other_mount_namespace == py.in_chroot());  // run_in_root.sh unshares the mount namespace
        bool maps_libpython = false;
        std::ifstream maps("/proc/" + std::to_string(target.pid()) + "/maps");
        for (std::string line; std::getline(maps, line);) maps_libpython |= line.find("/libpython") != std::string::npos;
        (maps_libpython ? shared : built_in) = true;
    }
    if (!interpreters().empty()) {
        CHECK_MESSAGE(shared, "no interpreter with a shared libpython was tried");
        CHECK_MESSAGE(built_in, "no interpreter built into its executable was tried");
    }
}

TEST_CASE("a scan of /proc lists the Python processes by PID, reads each interpreter's file once, and no others") {
    REQUIRE_FALSE(interpreters().empty());
    const auto& py = interpreters().front();
    Target first(py, {"-c", parked_target});
    Target second(py, {"-c", parked_target});
    REQUIRE((first.ready && second.ready));
    auto sleeper = sleeping_child();
    sampler::PythonProcessScan scan;
    auto started = std::chrono::steady_clock::now();
    auto result = scan.scan();
    auto took = std::chrono::steady_clock::now() - started;
    auto processes = std::ranges::count_if(fs::directory_iterator("/proc"), [](const fs::directory_entry& e) {
        auto name = e.path().filename().string();
        return std::ranges::all_of(name, [](char c) { return c >= '0' && c <= '9'; });
    });
    MESSAGE("the first scan of " << processes << " processes took "
                                 << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " µs, "
                                 << scan.files_read() << " interpreter files read");
    CHECK(listed(result, first.pid()));
    CHECK(listed(result, second.pid()));
    CHECK_FALSE(listed(result, sleeper->pid()));
    CHECK_FALSE(listed(result, ::getpid()));  // a C++ test, not Python
    CHECK(std::ranges::is_sorted(result.processes, {}, &sampler::PythonProcessListing::pid));
    auto read = scan.files_read();
    CHECK(read >= 1);
    started = std::chrono::steady_clock::now();
    auto again = scan.scan();
    took = std::chrono::steady_clock::now() - started;
    MESSAGE("again: " << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " µs");
    // Remembered, not read again. Other tests run beside this one and start Pythons of
    // their own: the second scan may read the files of processes the first did not
    // list, or listed without a version (past the files a scan may read), and only those.
    std::size_t may_read = 0;
    for (const auto& process : again.processes) {
        const auto* before = listed(result, process.pid);
        may_read += before == nullptr || !before->version;
    }
    CHECK(scan.files_read() - read <= may_read);
    // And the test's own targets' file, for certain.
    read = scan.files_read();
    CHECK(scan.inspect(first.pid()));
    CHECK(scan.inspect(second.pid()));
    CHECK(scan.files_read() == read);
    CHECK(listed(again, first.pid()));
    // With a uid, only that user's: the test's processes are root's.
    auto nobody = scan.scan(65534);
    CHECK_FALSE(listed(nobody, first.pid()));
    auto sleeper_verdict = scan.inspect(sleeper->pid());
    REQUIRE_FALSE(sleeper_verdict);
    CHECK(sleeper_verdict.error() == sampler::PythonProcessScan::Verdict::not_python);
}

TEST_CASE("an executable named python that holds no interpreter is not Python") {
    ScratchDir dir;
    auto fake = dir.path / "python3.11";
    fs::copy_file("/bin/sleep", fake);
    fs::permissions(fake, fs::perms::owner_all);
    ChildProcess child({.argv = {fake.string(), "600"}});
    for (int i = 0; i < 1000; ++i) {
        std::error_code ec;
        if (fs::read_symlink("/proc/" + std::to_string(child.pid()) + "/exe", ec) == fake) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    sampler::PythonProcessScan scan;
    auto verdict = scan.inspect(child.pid());
    REQUIRE_FALSE(verdict);
    CHECK(verdict.error() == sampler::PythonProcessScan::Verdict::not_python);
    CHECK(scan.files_read() == 1);
}

TEST_CASE("a command line is listed as its bytes, up to a bound; a cut argument ends with an ellipsis") {
    REQUIRE_FALSE(interpreters().empty());
    const auto& py = interpreters().front();
    std::string long_argument(20000, 'x');
    std::string not_utf8 = "caf\xe9";
    Target target(py, {"-c", parked_target, not_utf8, long_argument});
    REQUIRE(target.ready);
    sampler::PythonProcessScan scan;
    auto found = scan.inspect(target.pid());
    REQUIRE(found);
    REQUIRE(found->command_line.size() == 5);
    CHECK(found->command_line[3] == not_utf8);
    const auto& cut = found->command_line[4];
    CHECK(cut.ends_with("\u2026"));
    CHECK(cut.starts_with("xxxx"));
    std::size_t bytes = 0;
    for (const auto& argument : found->command_line) bytes += argument.size() + 1;
    CHECK(bytes <= sampler::PythonProcessScan::max_command_line_bytes + 1 + std::string("\u2026").size());
}

TEST_CASE("a Python in its own PID and mount namespaces is listed as in a container") {
    REQUIRE_FALSE(interpreters().empty());
    const auto& py = *std::ranges::find_if(interpreters(), [](const Interpreter& i) { return !i.in_chroot(); });
    ChildProcess unshare({.argv = {"unshare", "--pid", "--mount", "--fork", "--kill-child", "--mount-proc",
                                   py.executable, "-c", parked_target}});
    REQUIRE(unshare.wait_for_line("READY"));
    pid_t python = 0;
    std::ifstream("/proc/" + std::to_string(unshare.pid()) + "/task/" + std::to_string(unshare.pid()) + "/children") >>
        python;
    REQUIRE(python > 0);
    sampler::PythonProcessScan scan;
    auto found = scan.inspect(python);
    REQUIRE(found);
    CHECK(found->other_pid_namespace);
    CHECK(found->other_mount_namespace);
    CHECK(found->version);
    auto host = scan.inspect(unshare.pid());  // unshare itself: not Python
    CHECK_FALSE(host);
}

TEST_CASE("past the files a scan may read, a Python is listed on its name's word, its version not yet known") {
    REQUIRE_FALSE(interpreters().empty());
    const auto& py = interpreters().front();
    Target target(py, {"-c", parked_target});
    REQUIRE(target.ready);
    sampler::PythonProcessScan none_read(0);
    auto found = none_read.inspect(target.pid());
    REQUIRE(found);
    CHECK_FALSE(found->version);
    CHECK(found->threads == 3);
    CHECK(none_read.files_read() == 0);
    sampler::PythonProcessScan one_read(1);
    found = one_read.inspect(target.pid());
    REQUIRE(found);
    CHECK(found->version);
}

TEST_CASE("a process that is gone is not listed") {
    sampler::PythonProcessScan scan;
    auto verdict = scan.inspect(4194000);
    REQUIRE_FALSE(verdict);
    CHECK(verdict.error() != sampler::PythonProcessScan::Verdict::unreadable);
}
