// Blocking mode: the target's threads are paused for each sample, and the pause
// is never left behind: not when pyprofd is killed mid-sample, and not at the
// cost of a signal the target should have received.
#include <doctest/doctest.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/record_support.hpp"
#include "tests/support/null_device.hpp"

using namespace pyprofd::tests;
using namespace std::chrono_literals;

namespace {

// True when no thread of pid is stopped or traced.
bool runs_freely(pid_t pid, std::string& why) {
    for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream status(task.path() / "status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.starts_with("State:") && (line.find("t (tracing stop)") != std::string::npos ||
                                               line.find("T (stopped)") != std::string::npos)) {
                why = task.path().string() + " " + line;
                return false;
            }
            if (line.starts_with("TracerPid:") && line != "TracerPid:\t0") {
                why = task.path().string() + " " + line;
                return false;
            }
        }
    }
    return true;
}

}  // namespace

TEST_CASE("killing pyprofd in the middle of blocking sampling never leaves the target paused") {
    auto pys = interpreters();
    REQUIRE(!pys.empty());
    Target target(pys.back(), {target_path("busy_and_idle.py"), "two-busy"});
    REQUIRE(target.ready);
    ScratchDir dir;
    auto sink = make_null_device(dir);
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        ChildProcess pyprofd({.argv = {pyprofd_binary(), "record", "--pid", std::to_string(target.pid()), "--blocking",
                                       "--rate", "5000", "-o", sink, "--format", "folded"}});
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + 37 * round));
        pyprofd.send(SIGKILL);
        REQUIRE(pyprofd.wait_for_exit(10s) == -SIGKILL);
        std::string why;
        bool free = false;
        // The kernel releases a dead tracer's threads as it reaps it; give it a moment.
        for (int i = 0; i < 50 && !(free = runs_freely(target.pid(), why)); ++i) std::this_thread::sleep_for(10ms);
        CHECK_MESSAGE(free, why);
    }
    // And it still runs: its CPU time grows.
    auto cpu = [&] {
        std::ifstream stat("/proc/" + std::to_string(target.pid()) + "/stat");
        std::string all;
        std::getline(stat, all);
        std::istringstream fields(all.substr(all.rfind(')') + 2));
        std::string f;
        for (int i = 0; i < 11; ++i) fields >> f;  // state .. utime is the 12th after ')'
        fields >> f;
        return std::stoull(f);
    };
    auto before = cpu();
    std::this_thread::sleep_for(300ms);
    CHECK(cpu() > before);
}

TEST_CASE("signals sent to the target while it is sampled in blocking mode all arrive") {
    auto pys = interpreters();
    REQUIRE(!pys.empty());
    for (const auto& py : {pys.front(), pys.back()}) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("signal_counter.py")});
            REQUIRE(target.ready);
            ScratchDir dir;
            auto sink = make_null_device(dir);
            ChildProcess pyprofd({.argv = {pyprofd_binary(), "record", "--pid", std::to_string(target.pid()),
                                           "--blocking", "--rate", "2000", "--duration", "4", "-o", sink,
                                           "--format", "folded"}});
            std::this_thread::sleep_for(500ms);  // sampling has begun
            constexpr int sent = 60;
            for (int i = 1; i <= sent; ++i) {
                ::kill(target.pid(), SIGUSR1);
                // Each one handled before the next is sent: pending together, two would be one.
                REQUIRE_MESSAGE(target.child.wait_for_line("GOT " + std::to_string(i), 10s),
                                "SIGUSR1 number " << i << " never arrived; the target wrote:\n" << target.child.output());
                std::this_thread::sleep_for(10ms);  // spread over the samples
            }
            ::kill(target.pid(), SIGUSR2);
            REQUIRE(target.child.wait_for_line("COUNT " + std::to_string(sent), 10s));
            auto status = pyprofd.wait_for_exit(30s);
            REQUIRE(status.has_value());
            CHECK(*status == 0);
        }
    }
}

TEST_CASE("blocking mode refuses, saying by whom, a target another tracer holds; it runs once that one detaches") {
    auto py = one_of_each_frame_model().back();
    Target target(py, {target_path("heavy_light.py")});
    REQUIRE(target.ready);
    ScratchDir dir;
    auto sink = make_null_device(dir);
    // This test process is the other tracer, as gdb or strace -p would be.
    REQUIRE(::ptrace(PTRACE_SEIZE, target.pid(), nullptr, nullptr) == 0);
    auto refused = run_record({"--pid", std::to_string(target.pid()), "--blocking", "--duration", "0.3", "--format", "folded", "-o", sink});
    // Detaching needs the tracee stopped: interrupt it, wait for the stop, let go.
    ::ptrace(PTRACE_INTERRUPT, target.pid(), nullptr, nullptr);
    int status = 0;
    ::waitpid(target.pid(), &status, __WALL);
    REQUIRE(::ptrace(PTRACE_DETACH, target.pid(), nullptr, nullptr) == 0);
    CHECK(refused.exit_code == 1);
    INFO(refused.err);
    CHECK(refused.err.find(fmt::format("process {} is traced by process {} (blocking_test)", target.pid(), ::getpid())) !=
          std::string::npos);
    CHECK(refused.err.find("sample without blocking") != std::string::npos);

    auto after = run_record({"--pid", std::to_string(target.pid()), "--blocking", "--duration", "0.3", "--format", "folded", "-o", sink});
    CHECK_MESSAGE(after.exit_code == 0, after.err);
}
