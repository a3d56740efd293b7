// The timed sampling loop against a real target: rate, duration, stop, target exit,
// and what it says when it cannot keep up. Rates here are far below what the
// machine can do, so the checks hold on a loaded machine; speed is for bench/.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "sampler/sampling_loop.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;
using namespace std::chrono_literals;

TEST_CASE("samples at the rate asked for the duration asked, and counts what it expected") {
    for (const auto& py : one_of_each_frame_model()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("deep.py"), "10"});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE(process);
            std::uint64_t seen = 0, main_frames = 0;
            auto result = sampler::run_sampling_loop(
                *process, {.rate_hz = 200, .duration = 1s}, {},
                {.on_sample = [&](const sampler::StackSample& s) {
                    ++seen;
                    for (const auto& t : s.threads)
                        if (t.native_id == target.pid()) main_frames = t.frames.size();
                }});
            CHECK(result.end == sampler::SamplingEnd::duration_reached);
            CHECK(result.stats.samples_expected == 200);
            CHECK(result.stats.samples_taken == seen);
            CHECK(result.stats.samples_taken >= 180);
            CHECK(result.stats.samples_taken <= 200);
            CHECK(result.stats.elapsed >= 995ms);
            CHECK(result.stats.elapsed < 1500ms);
            CHECK(main_frames == 13);
            CHECK(result.stats.failed_samples == 0);
        }
    }
}

TEST_CASE("a stop request ends the loop at once, even between slow ticks") {
    auto pys = one_of_each_frame_model();
    REQUIRE(!pys.empty());
    Target target(pys.front(), {target_path("deep.py"), "1"});
    REQUIRE(target.ready);
    auto process = sampler::PythonProcess::attach(target.pid());
    REQUIRE(process);
    std::stop_source stop;
    std::jthread stopper([&] {
        std::this_thread::sleep_for(300ms);
        stop.request_stop();
    });
    auto result = sampler::run_sampling_loop(*process, {.rate_hz = 1}, {}, {}, stop.get_token());
    CHECK(result.end == sampler::SamplingEnd::stopped);
    CHECK(result.stats.samples_taken == 1);  // the first tick is at the start
    CHECK(result.stats.elapsed < 900ms);
}

TEST_CASE("the target exiting ends the run normally, with the samples so far") {
    for (const auto& py : one_of_each_frame_model()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("deep.py"), "5"});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE(process);
            std::jthread killer([&] {
                std::this_thread::sleep_for(400ms);
                target.child.kill_now();
            });
            auto result = sampler::run_sampling_loop(*process, {.rate_hz = 100}, {}, {});
            CHECK(result.end == sampler::SamplingEnd::target_exited);
            CHECK(result.stats.samples_taken >= 20);
            CHECK(result.stats.elapsed < 5s);
        }
    }
}

TEST_CASE("a rate it cannot keep up with is said once, and sampling goes on") {
    auto pys = one_of_each_frame_model();
    REQUIRE(!pys.empty());
    Target target(pys.front(), {target_path("deep.py"), "50"});
    REQUIRE(target.ready);
    auto process = sampler::PythonProcess::attach(target.pid());
    REQUIRE(process);
    int said = 0;
    auto result = sampler::run_sampling_loop(*process, {.rate_hz = 1'000'000, .duration = 300ms}, {},
                                             {.on_fell_behind = [&](const sampler::SamplingStats&) { ++said; }});
    CHECK(said == 1);
    CHECK(result.end == sampler::SamplingEnd::duration_reached);
    CHECK(result.stats.samples_expected == 300'000);
    CHECK(result.stats.samples_taken > 100);
    CHECK(result.stats.samples_taken < result.stats.samples_expected);
    CHECK(result.stats.behind_schedule_percent() > 50.0);
    CHECK(result.stats.max_lag > 0ns);
}

TEST_CASE("a sample a little longer than the period delays the next tick, it does not lose it") {
    // 500 Hz, each tick taking 2.4 ms: the tick after a slow one is due already and
    // is taken at once. Skipping every tick that is due (as the loop once did) takes
    // every other: 50%; taking the one just due, about 1/1.2 of them.
    std::uint64_t ticks = 0;
    auto result = sampler::run_sampling_schedule(
        {.rate_hz = 500, .duration = 1s},
        [&] {
            ++ticks;
            std::this_thread::sleep_for(2400us);
            return sampler::TickOutcome{};
        },
        {}, {});
    CHECK(result.stats.samples_expected == 500);
    CHECK(result.stats.samples_taken == ticks);
    CHECK(result.stats.samples_taken * 100 >= result.stats.samples_expected * 65);
    CHECK(result.stats.samples_taken * 100 <= result.stats.samples_expected * 90);
    // Never bunched: a late tick follows at once, the one after waits for its time.
    CHECK(result.stats.max_lag < 2ms + 500us);
}
