// Readers of a running session do not hold up its sampling: its profile is copied
// by the session's own thread between samples, at most every
// Session::snapshot_max_age however many readers ask, and readers share the copy.
// A reader that copied the profile under the sampler's lock would make the sampler
// wait for every copy; with a profile whose copy takes longer than a sample
// period, sampling would fall far behind its schedule.
//
// The target is a CPython built by hand whose one thread is deep in functions with
// long names: a large profile to copy, cheap to sample. The costs are measured
// first, and the rate is chosen from them, so the test means the same on a fast
// build and on a sanitizer's.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "daemon/sample_aggregator.hpp"
#include "daemon/session.hpp"
#include "sampler/python_process.hpp"
#include "tests/support/daemon_fixture.hpp"
#include "tests/support/fake_cpython.hpp"

using namespace pyprofd;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t depth = 1500;
constexpr std::size_t name_chars = 3000;

std::vector<tests::FakeThread> deep_thread() {
    tests::FakeThread thread{.name = "MainThread", .frames = {}, .native_id = 0};
    for (std::size_t i = 0; i < depth; ++i) {
        auto name = "f" + std::to_string(i) + "_" + std::string(name_chars, 'n');
        thread.frames.push_back({name, "/srv/app/" + std::string(name_chars, 'd') + ".py", 1, 2});
    }
    return {thread};
}

sampler::PythonProcess attach_deep(const tests::FakeCPython& image) {
    auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), tests::FakeCPython::binary(),
                                                                   image.address_space());
    REQUIRE_MESSAGE(process, process.error().message);
    return std::move(*process);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Costs {
    double sample_s;  // one sample, added to a profile
    double copy_s;    // one copy of the profile
};

Costs measure(const tests::FakeCPython& image) {
    auto process = attach_deep(image);
    render::Profile profile;
    daemon::SampleAggregator aggregator(profile, {.per_thread = true});
    REQUIRE(aggregator.add(process.sample().value()) == 1);  // the first reads every code object
    constexpr int rounds = 5;
    auto began = Clock::now();
    for (int i = 0; i < rounds; ++i) aggregator.add(process.sample().value());
    auto sample_s = seconds(Clock::now() - began) / rounds;
    began = Clock::now();
    for (int i = 0; i < rounds; ++i) {
        render::Profile copy(profile);
        CHECK(copy.total_samples() == profile.total_samples());
    }
    return {sample_s, seconds(Clock::now() - began) / rounds};
}

struct Run {
    std::uint64_t samples = 0;
    std::uint64_t expected = 0;
    std::uint64_t reads = 0;
    std::uint64_t most_copies_seen = 0;  // by any one reader: how often its snapshot was a new one
    double read_for_s = 0;                // from the readers' start to the session's end
    double on_schedule() const { return expected ? static_cast<double>(samples) / static_cast<double>(expected) : 0; }
};

// A session at this rate for this long, with this many threads reading snapshots meanwhile.
Run sample_while_read(const tests::FakeCPython& image, double rate_hz, double duration_s, int readers) {
    daemon::SessionInfo info;
    info.id = "00000000000000ee";
    info.spec.pid = ::getpid();
    info.spec.rate_hz = rate_hz;
    info.spec.duration_s = duration_s;
    info.created = daemon::WallClock::now();
    std::atomic<bool> ended = false;
    daemon::Session session(info, attach_deep(image), {}, [&](daemon::Session&) { ended = true; });

    std::atomic<std::uint64_t> reads = 0;
    std::vector<std::uint64_t> copies_seen(static_cast<std::size_t>(readers), 0);
    std::vector<std::jthread> threads;
    const auto readers_started = Clock::now();
    for (int i = 0; i < readers; ++i)
        threads.emplace_back([&, i](std::stop_token stop) {
            // Held until the next one arrives, so a new copy cannot take its address.
            std::shared_ptr<const render::Profile> last;
            while (!stop.stop_requested() && !ended) {
                auto [record, profile] = session.snapshot();
                CHECK(profile->total_samples() == record.samples);  // taken together
                if (profile != last) ++copies_seen[static_cast<std::size_t>(i)];
                last = std::move(profile);
                ++reads;
                // Often enough to want a copy at every tick, light enough to leave the
                // sampler its CPU on a busy 2-core machine.
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
    CHECK(tests::eventually([&] { return ended.load(); }, std::chrono::milliseconds(static_cast<int>(duration_s * 1000) + 30'000)));
    threads.clear();
    const auto read_for_s = seconds(Clock::now() - readers_started);
    auto record = session.info();
    CHECK(record.state == daemon::SessionState::completed);
    return {record.samples, record.samples_expected, reads,
            copies_seen.empty() ? 0 : *std::ranges::max_element(copies_seen), read_for_s};
}

}  // namespace

TEST_CASE("readers of a running session's snapshots do not hold up its sampling") {
    tests::FakeCPython image(3, 11, deep_thread());
    auto costs = measure(image);
    // A period shorter than a copy: a reader copying under the sampler's lock would
    // cost the sampler most ticks. Long enough for a sample with room to spare.
    auto period = std::max(3 * costs.sample_s, costs.copy_s / 3);
    auto rate = 1.0 / period;
    constexpr double duration = 3;  // the first sample reads every code object: a small part of it
    std::cout << "snapshot: a sample takes " << costs.sample_s * 1000 << " ms, a copy of the profile "
              << costs.copy_s * 1000 << " ms; sampling at " << rate << " Hz\n";
    if (costs.copy_s < 2 * costs.sample_s)
        std::cout << "snapshot: the copy is cheap next to a sample here: the test says little on this machine\n";

    // Exact: however often readers ask, a new copy at most every snapshot_max_age
    // (and the final profile once it ends). Timed: sampling keeps its schedule. A
    // busy machine (a sanitizer's build next to other tests on 2 cores) can starve
    // one pair of runs; a sampler held up by its readers loses in every pair.
    constexpr int pairs = 3;
    bool kept_schedule = false;
    for (int pair = 1; pair <= pairs && !kept_schedule; ++pair) {
        auto alone = sample_while_read(image, rate, duration, 0);
        auto read = sample_while_read(image, rate, duration, 4);
        std::cout << "snapshot: pair " << pair << ": on schedule " << alone.on_schedule() * 100 << "% alone, "
                  << read.on_schedule() * 100 << "% with 4 readers (" << read.reads << " snapshots read, at most "
                  << read.most_copies_seen << " copies seen by one)\n";
        CHECK(read.reads > 100);
        CHECK(read.most_copies_seen >= 2);  // the readers did see it move
        // The empty profile before the first sample, copies at least snapshot_max_age
        // apart, and the final profile.
        CHECK(read.most_copies_seen <=
              static_cast<std::uint64_t>(read.read_for_s / seconds(daemon::Session::snapshot_max_age)) + 3);
        kept_schedule = read.on_schedule() >= alone.on_schedule() - 0.15;
    }
    // A copy a few times a second leaves hundreds of ticks a second on time.
    CHECK_MESSAGE(kept_schedule, "sampling fell behind with readers in each of " << pairs << " pairs of runs");
}

TEST_CASE("a snapshot is at most a short time old, shared while fresh, and the final profile once it ends") {
    tests::FakeCPython image(3, 11, {{.name = "MainThread", .frames = {{"work", "/srv/app/job.py", 10, 12}}}});
    daemon::SessionInfo info;
    info.id = "00000000000000ef";
    info.spec.pid = ::getpid();
    info.spec.rate_hz = 200;
    info.spec.duration_s = 30;
    info.created = daemon::WallClock::now();
    daemon::Session session(info, attach_deep(image), {}, {});

    CHECK(tests::eventually([&] { return session.info().samples >= 20; }));
    auto [first_record, first] = session.snapshot();
    CHECK(first_record.samples >= 20);
    CHECK(first->total_samples() == first_record.samples);  // the record and the profile at one moment
    CHECK(session.snapshot().second == first);  // readers at about the same moment share one

    std::this_thread::sleep_for(daemon::Session::snapshot_max_age + std::chrono::milliseconds(50));
    auto asked = Clock::now();
    auto [later_record, later] = session.snapshot();
    CHECK(Clock::now() - asked < daemon::Session::snapshot_wait_limit(200));
    CHECK(later != first);
    CHECK(later_record.samples > first_record.samples);
    CHECK(later->total_samples() == later_record.samples);
    CHECK(first->total_samples() == first_record.samples);  // published snapshots never change

    session.request_stop();
    session.join();
    auto [final_record, final_profile] = session.snapshot();
    CHECK(final_record.state == daemon::SessionState::stopped);
    CHECK(final_profile->total_samples() == final_record.samples);
}

TEST_CASE("a reader waits for a fresh snapshot a bounded time, whatever the rate") {
    CHECK(daemon::Session::snapshot_wait_limit(10'000) == std::chrono::milliseconds(100));
    CHECK(daemon::Session::snapshot_wait_limit(10) == std::chrono::milliseconds(250));
    CHECK(daemon::Session::snapshot_wait_limit(1) == std::chrono::milliseconds(2050));
    CHECK(daemon::Session::snapshot_wait_limit(0) == std::chrono::milliseconds(2050));
}
