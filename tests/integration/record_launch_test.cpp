// `pyprofd record -- program`: the launched program and its process group never
// outlive the recording, however it ends; a program that ends first ends it.
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <sstream>
#include <thread>

#include "tests/integration/record_support.hpp"

using namespace pyprofd::tests;
using namespace std::chrono_literals;

namespace {

Interpreter some_python3() {
    for (const auto& py : interpreters())
        if (py.major == 3) return py;
    FAIL("no Python 3 on this machine");
    return {};
}

struct LaunchedPids {
    pid_t program = 0;  // also its process group
    pid_t grandchild = 0;
};

// Starts `pyprofd record [args] -- python spawner.py` and waits for the spawner's PIDS line.
LaunchedPids start_recording(ChildProcess& pyprofd) {
    REQUIRE_MESSAGE(pyprofd.wait_for_line("READY", 30s), pyprofd.output());
    auto at = pyprofd.output().find("PIDS ");
    REQUIRE(at != std::string::npos);
    LaunchedPids pids;
    std::istringstream(pyprofd.output().substr(at + 5)) >> pids.program >> pids.grandchild;
    REQUIRE(pids.program > 0);
    REQUIRE(pids.grandchild > 0);
    REQUIRE(process_exists(pids.program));
    REQUIRE(process_exists(pids.grandchild));
    CHECK(::getpgid(pids.program) == pids.program);
    CHECK(::getpgid(pids.grandchild) == pids.program);
    return pids;
}

void check_all_gone(const LaunchedPids& pids) {
    CHECK_FALSE(process_exists(pids.program));
    CHECK_FALSE(process_exists(pids.grandchild));
    CHECK_FALSE(process_group_exists(pids.program));
}

SpawnOptions record_command(const ScratchDir& dir, std::vector<std::string> options) {
    std::vector<std::string> argv = {pyprofd_binary(), "record", "-o", dir.file("p.folded")};
    argv.insert(argv.end(), options.begin(), options.end());
    for (auto word : {std::string("--"), some_python3().executable, target_path("spawner.py")}) argv.push_back(word);
    return {.argv = argv};
}

}  // namespace

TEST_CASE("a launched program and its process group are gone when the duration ends") {
    ScratchDir dir;
    ChildProcess pyprofd(record_command(dir, {"--duration", "2"}));
    auto pids = start_recording(pyprofd);
    auto status = pyprofd.wait_for_exit(30s);
    REQUIRE(status.has_value());
    CHECK(*status == 0);
    check_all_gone(pids);
    CHECK(read_folded_file(dir.file("p.folded")).samples_containing("spawner.py") > 50);
    CHECK(last_line(pyprofd.output()).starts_with("Wrote " + dir.file("p.folded") + ": "));
}

TEST_CASE("a launched program and its process group are gone after Ctrl-C or SIGTERM, and the profile is written") {
    for (int signal : {SIGINT, SIGTERM}) {
        SUBCASE(signal == SIGINT ? "SIGINT" : "SIGTERM") {
            ScratchDir dir;
            ChildProcess pyprofd(record_command(dir, {}));
            auto pids = start_recording(pyprofd);
            std::this_thread::sleep_for(500ms);
            pyprofd.send(signal);
            auto status = pyprofd.wait_for_exit(30s);
            REQUIRE(status.has_value());
            CHECK(*status == 0);
            check_all_gone(pids);
            CHECK(pyprofd.output().find(signal == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM") !=
                  std::string::npos);
            CHECK(read_folded_file(dir.file("p.folded")).samples_containing("spawner.py") > 10);
        }
    }
}

TEST_CASE("if pyprofd is killed outright, its keeper ends the launched program's whole group") {
    // We take pyprofd's orphans, so that we can see them end (and reap them).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    ScratchDir dir;
    ChildProcess pyprofd(record_command(dir, {}));
    auto pids = start_recording(pyprofd);
    pyprofd.send(SIGKILL);
    REQUIRE(pyprofd.wait_for_exit(10s) == -SIGKILL);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline &&
           (process_exists(pids.program) || process_exists(pids.grandchild) || process_group_exists(pids.program))) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        std::this_thread::sleep_for(20ms);
    }
    check_all_gone(pids);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

TEST_CASE("a launched program that exits first ends the recording, with its samples and its exit reported") {
    for (const auto& py : interpreters()) {
        if (py.major != 3 && py.major != 2) continue;
        SUBCASE(py.label.c_str()) {
            ScratchDir dir;
            auto out = dir.file("p.folded");
            std::vector<std::string> args = {"--duration", "20", "-o", out, "--"};
            for (auto& word : py.command({target_path("short_lived.py"), "1"})) args.push_back(word);
            auto r = run_record(args);
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            INFO(r.err);
            CHECK(r.err.find("the program exited with status 0 after") != std::string::npos);
            CHECK(read_folded_file(out).samples_containing("work (") > 50);
        }
    }
}

TEST_CASE("record raises its own descriptor limit, and the program it launches gets the one it started with") {
    ScratchDir dir;
    // The program prints its own limits and its keeper's (a fork of record, so
    // record's), then sleeps long enough to be sampled.
    const std::string program =
        "import os, resource, time\n"
        "print('PROGRAM %d %d' % resource.getrlimit(resource.RLIMIT_NOFILE))\n"
        "for line in open('/proc/%d/limits' % os.getppid()):\n"
        "    if line.startswith('Max open files'): print('RECORD %s %s' % tuple(line.split()[3:5]))\n"
        "time.sleep(1.5)\n";
    auto r = run_command({.argv = {"prlimit", "--nofile=200:4000", "--", pyprofd_binary(), "record", "--duration", "10",
                                   "-o", dir.file("p.folded"), "--", some_python3().executable, "-c", program}},
                         30s);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK_MESSAGE(r.out.find("PROGRAM 200 4000") != std::string::npos, r.out);
    CHECK_MESSAGE(r.out.find("RECORD 4000 4000") != std::string::npos, r.out);
}

TEST_CASE("with no descriptors left for the program's process, record says so at once, not after 30 s of trying") {
    // A limit of 22 leaves a quarter, 5, for attached processes: one takes 6.
    ScratchDir dir;
    const auto started = std::chrono::steady_clock::now();
    auto r = run_command({.argv = {"prlimit", "--nofile=22:22", "--", pyprofd_binary(), "record", "--duration", "10",
                                   "-o", dir.file("p.folded"), "--", some_python3().executable, "-c",
                                   "import time; time.sleep(5)"}},
                         30s);
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.err.find("hold 0 of the 5 descriptors its limit leaves for them, and this needs 6") !=
                      std::string::npos,
                  r.err);
    CHECK_MESSAGE(r.err.find("raise the limit (LimitNOFILE=, ulimit -n)") != std::string::npos, r.err);
    CHECK(took < 15s);  // half the 30 s an interpreter is given to start
}

TEST_CASE("a target given by --pid that exits mid-run ends the recording normally, with the samples so far") {
    auto py = some_python3();
    Target target(py, {target_path("short_lived.py"), "1.5"});
    REQUIRE(target.ready);
    ScratchDir dir;
    auto out = dir.file("p.folded");
    auto r = run_record({"--pid", std::to_string(target.pid()), "--duration", "20", "-o", out});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    INFO(r.err);
    CHECK(r.err.find("process " + std::to_string(target.pid()) + " exited after") != std::string::npos);
    CHECK(read_folded_file(out).samples_containing("work (") > 50);
}

TEST_CASE("what a recorded profile holds is bounded: past --max-stacks, new stacks count under [truncated]") {
    // A target that makes fresh stacks of fresh names without end (3.11+: it names
    // its functions through co_qualname).
    const Interpreter* python = nullptr;
    for (const auto& py : interpreters())
        if (py.at_least(3, 11)) python = &py;
    REQUIRE_MESSAGE(python, "no Python 3.11 or later on this machine");
    ScratchDir dir;
    auto out = dir.file("p.folded");
    std::vector<std::string> args = {"--duration", "3", "--rate", "200", "--max-stacks", "5", "-o", out, "--"};
    for (auto& word : python->command({target_path("fresh_names.py"), "20", "50"})) args.push_back(word);
    auto r = run_record(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto profile = read_folded_file(out);
    auto truncated = profile.stacks.find("[truncated]");
    REQUIRE_MESSAGE(truncated != profile.stacks.end(), "no [truncated] line in " << out);
    CHECK(profile.stacks.size() <= 6);  // five stacks, and [truncated]
    CHECK(truncated->second > 0);
    CHECK_MESSAGE(r.err.find(std::to_string(truncated->second) + " of ") != std::string::npos, r.err);
    CHECK_MESSAGE(r.err.find("--max-stacks raises it") != std::string::npos, r.err);

    auto bad = run_record({"--max-label-mb", "0", "--pid", "1"});
    CHECK(bad.exit_code == 2);
    CHECK_MESSAGE(bad.err.find("--max-label-mb") != std::string::npos, bad.err);
}
