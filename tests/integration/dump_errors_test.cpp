// `pyprofd dump` where things are not simple: errors a user must understand, and
// targets started in unusual ways (relative paths, deleted files, other mount namespaces).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/dump_support.hpp"
#include "tests/support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace pyprofd::tests;
using nlohmann::json;

namespace {

std::string family(const Interpreter& py) { return std::to_string(py.major) + "." + std::to_string(py.minor); }

// The file holding the interpreter: libpython for pyenv's shared builds, else the executable.
std::optional<fs::path> libpython_of(const Interpreter& py) {
    auto lib = fs::path(py.executable).parent_path().parent_path() / "lib";
    for (auto suffix : {"", "m"}) {
        auto p = lib / ("libpython" + family(py) + suffix + ".so.1.0");
        if (fs::exists(p)) return p;
    }
    return std::nullopt;
}

// Copies the interpreter (and its libpython) into dir; returns the argv prefix and env to run it.
SpawnOptions copied_interpreter(const Interpreter& py, const fs::path& dir, const std::string& script) {
    SpawnOptions o;
    auto exe = dir / fs::path(py.executable).filename();
    fs::copy_file(py.executable, exe);
    o.argv = {exe.string(), script, "1"};
    auto home = fs::path(py.executable).parent_path().parent_path();
    o.extra_env = {"PYTHONHOME=" + home.string(), "PYTHONDONTWRITEBYTECODE=1", "LD_LIBRARY_PATH=" + dir.string()};
    if (auto lib = libpython_of(py)) fs::copy_file(*lib, dir / lib->filename());
    return o;
}

json dump_deep_target(pid_t pid, const std::string& script) {
    int leaf_loop = line_of(script, "leaf-loop");
    return dump_until(pid, [&](const json& d) { return innermost_is(d, pid, "leaf", leaf_loop); });
}

}  // namespace

TEST_CASE("no such process: one clear line and a non-zero exit") {
    pid_t gone = ::fork();
    if (gone == 0) _exit(0);
    ::waitpid(gone, nullptr, 0);
    auto r = run_dump(gone, false);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "pyprofd: no process with PID " + std::to_string(gone) + "\n");
}

TEST_CASE("permission denied says that root or CAP_SYS_PTRACE is needed") {
    if (::geteuid() != 0) {
        MESSAGE("permission: SKIPPED: the test must run as root to drop to another user");
        return;
    }
    REQUIRE(!interpreters().empty());
    Target target(interpreters().front(), {target_path("deep.py"), "1"});
    REQUIRE(target.ready);
    // A copy the unprivileged user can reach: the build tree may sit in a private directory.
    ScratchDir dir;
    fs::permissions(dir.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    auto binary = dir.path / "pyprofd";
    fs::copy_file(pyprofd_binary(), binary);
    SpawnOptions o{.argv = {binary.string(), "dump", "--pid", std::to_string(target.pid())}};
    o.run_as = 65534;  // nobody
    auto r = run_command(o);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("permission denied") != std::string::npos);
    CHECK(r.err.find("root or with CAP_SYS_PTRACE") != std::string::npos);
    CHECK(std::ranges::count(r.err, '\n') == 1);
}

TEST_CASE("a process that is not Python is named as such") {
    ChildProcess sleeper({.argv = {"sleep", "1000"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = run_dump(sleeper.pid(), false);
    CHECK(r.exit_code == 1);
    INFO(r.err);
    CHECK(r.err.find("process " + std::to_string(sleeper.pid()) + " is not a Python process") != std::string::npos);
    CHECK(r.err.find("/sleep") != std::string::npos);
    CHECK(std::ranges::count(r.err, '\n') == 1);
}

TEST_CASE("a Python version we cannot read is named") {
    ChildProcess fake({.argv = {FAKE_PYTHON_316}});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = run_dump(fake.pid(), false);
    CHECK(r.exit_code == 1);
    INFO(r.err);
    CHECK(r.err.find("runs Python 3.16.0, which pyprofd cannot read: 3.16 is newer than this pyprofd knows") !=
          std::string::npos);
    CHECK(r.err.find("supported: 2.7, 3.6, 3.7, 3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15\n") != std::string::npos);
}

TEST_CASE("usage errors exit 2 and say what was wrong") {
    auto none = run_command({.argv = {pyprofd_binary(), "dump"}});
    CHECK(none.exit_code == 2);
    CHECK(none.err.find("dump needs --pid PID") != std::string::npos);
    auto bad = run_command({.argv = {pyprofd_binary(), "dump", "--pid", "12ab"}});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--pid takes a positive number, not '12ab'") != std::string::npos);
    auto unknown = run_command({.argv = {pyprofd_binary(), "frobnicate"}});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);
}

TEST_CASE("targets started through relative paths") {
    auto script = fs::path(target_path("deep.py"));
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            auto bin = fs::path(py.executable).parent_path();
            auto relative_script = fs::relative(script, bin);
            Target target(py, {relative_script.string(), "1"}, bin.string());
            // Run as ./pythonX.Y from its own directory.
            REQUIRE(target.ready);
            auto dump = dump_deep_target(target.pid(), script.string());
            auto main = thread_with_id(dump, target.pid());
            REQUIRE(main);
            CHECK((*main)["frames"][0]["function"] == "leaf");
            CHECK((*main)["frames"].back()["filename"].get<std::string>().ends_with("deep.py"));
        }
    }
}

TEST_CASE("targets whose interpreter files were deleted or replaced") {
    auto script = target_path("deep.py");
    for (const auto& py : interpreters()) {
        if (py.in_chroot()) continue;  // copied out of its root, it would not find its libraries
        for (bool replace : {false, true}) {
            SUBCASE((py.label + (replace ? " replaced" : " deleted")).c_str()) {
                ScratchDir dir;
                auto options = copied_interpreter(py, dir.path, script);
                ChildProcess target(options);
                REQUIRE_MESSAGE(target.wait_for_line("READY"), target.output());
                for (const auto& entry : fs::directory_iterator(dir.path)) {
                    fs::remove(entry.path());
                    if (replace) std::ofstream(entry.path()) << "not the interpreter any more\n";
                }
                auto dump = dump_deep_target(target.pid(), script);
                auto main = thread_with_id(dump, target.pid());
                REQUIRE(main);
                CHECK((*main)["frames"][0]["function"] == "leaf");
                CHECK(dump["python"]["binary"].get<std::string>().starts_with(dir.path.string()));
            }
        }
    }
}

TEST_CASE("targets inside another mount namespace") {
    if (::geteuid() != 0 || !fs::exists("/usr/bin/unshare")) {
        MESSAGE("mount namespace: SKIPPED: needs root and unshare(1)");
        return;
    }
    auto script = target_path("deep.py");
    for (const auto& py : interpreters()) {
        if (py.in_chroot()) continue;  // those run in a mount namespace of their own anyway
        SUBCASE(py.label.c_str()) {
            // The interpreter lives on a tmpfs that only the target's namespace has.
            ScratchDir staging, mountpoint;
            auto options = copied_interpreter(py, staging.path, script);
            auto exe = options.argv[0];
            std::string inner = "mount -t tmpfs pyprofd-test " + mountpoint.path.string() + " && cp " +
                                staging.path.string() + "/* " + mountpoint.path.string() + "/ && exec " +
                                (mountpoint.path / fs::path(exe).filename()).string() + " " + script + " 1";
            for (auto& e : options.extra_env)
                if (e.starts_with("LD_LIBRARY_PATH=")) e = "LD_LIBRARY_PATH=" + mountpoint.path.string();
            options.argv = {"unshare", "--mount", "--propagation", "private", "sh", "-c", inner};
            ChildProcess target(options);
            REQUIRE_MESSAGE(target.wait_for_line("READY"), target.output());
            CHECK(fs::is_empty(mountpoint.path));  // not visible from here
            auto dump = dump_deep_target(target.pid(), script);
            auto main = thread_with_id(dump, target.pid());
            REQUIRE(main);
            CHECK((*main)["frames"][0]["function"] == "leaf");
            CHECK(dump["python"]["binary"].get<std::string>().starts_with(mountpoint.path.string()));
        }
    }
}
