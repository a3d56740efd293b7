// PID reuse: a process is pinned when attached (a pidfd, and its start time), and a
// sample of a process that has exited is refused, even while its PID still names a
// zombie or could already name another process.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "sampler/process_identity.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sampling_loop.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;

TEST_CASE("a process that exited is never sampled, even as a zombie whose PID still exists") {
    auto py = one_of_each_frame_model().back();
    Target target(py, {target_path("heavy_light.py")});
    REQUIRE(target.ready);
    auto process = sampler::PythonProcess::attach(target.pid());
    REQUIRE_MESSAGE(process, process.error().message);
    REQUIRE(process->sample());
    ::kill(target.pid(), SIGKILL);  // not reaped: the test's child stays a zombie
    // Until the kernel has made it a zombie (state Z in /proc/PID/stat).
    auto state = [&] {
        std::ifstream in("/proc/" + std::to_string(target.pid()) + "/stat");
        std::string text;
        std::getline(in, text);
        auto close = text.rfind(')');
        return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
    };
    for (int i = 0; i < 500 && state() != 'Z'; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(state() == 'Z');
    CHECK(std::filesystem::exists("/proc/" + std::to_string(target.pid())));  // the zombie's PID is still taken
    auto sample = process->sample();
    REQUIRE_FALSE(sample);
    CHECK(sample.error().kind == sampler::ErrorKind::no_such_process);
    CHECK(sample.error().message == "process " + std::to_string(target.pid()) + " has exited");
    // The sampling loop ends as it does for any target that exits.
    auto result = sampler::run_sampling_loop(*process, {.rate_hz = 100, .duration = std::chrono::seconds(5)}, {}, {});
    CHECK(result.end == sampler::SamplingEnd::target_exited);
    CHECK(result.stats.samples_taken == 0);
}

TEST_CASE("the identity of a live process: a pidfd, its start time, not exited") {
    auto identity = sampler::ProcessIdentity::pin(::getpid());
    REQUIRE(identity);
    CHECK(identity->has_pidfd());
    CHECK(identity->start_time() == *sampler::process_start_time(::getpid()));
    CHECK_FALSE(identity->exited());
    auto none = sampler::ProcessIdentity::pin(4194000);
    REQUIRE_FALSE(none);
    CHECK(none.error().kind == sampler::ErrorKind::no_such_process);
}

TEST_CASE("a target that replaces its program (exec) ends the sampling, with the samples before it") {
    auto py = one_of_each_frame_model().back();
    // Another executable, and the same one again (its /proc/PID/exe unchanged).
    for (std::string script : {"execs_sleep.py", "execs_itself.py"}) {
        SUBCASE(script.c_str()) {
            Target target(py, {target_path(script)});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            CHECK_FALSE(process->program_replaced());
            auto started = std::chrono::steady_clock::now();
            auto result =
                sampler::run_sampling_loop(*process, {.rate_hz = 100, .duration = std::chrono::seconds(10)}, {}, {});
            CHECK(result.end == sampler::SamplingEnd::target_replaced);
            CHECK(process->program_replaced());
            CHECK(result.stats.samples_taken > 10);   // the half second of Python before the exec
            CHECK(result.stats.failed_samples <= 3);  // not ten seconds of failures
            CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
        }
    }
}
