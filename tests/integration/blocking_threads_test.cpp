// Blocking mode on a target with many threads: only the GIL's holder is stopped
// where that is proven enough (sampler/pause_proof.hpp), every thread where it is
// not, and either way every stack read is one the target could be in at that
// instant: no frame under a caller that does not call it, no caller at a line that
// does not call that frame. Busy threads go back and forth between two call chains
// as fast as Python runs, so a stack read while its thread runs shows such a frame.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "sampler/proc_files.hpp"
#include "sampler/python_process.hpp"
#include "sampler/thread_pause.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;
using namespace std::chrono_literals;

namespace {

constexpr int parked_threads = 48;
constexpr int busy_threads = 4;

// What parked_and_busy.py's stacks may be: each function's lines, and the line each
// caller calls each callee from.
struct TargetStacks {
    std::string file = target_path("parked_and_busy.py");
    std::map<std::string, std::pair<int, int>> body;  // function -> first (def) and last line
    std::map<std::pair<std::string, std::string>, int> calls;  // (caller, callee) -> line of the call

    TargetStacks() {
        auto mark = [&](const char* m) { return line_of(file, m); };
        body["leaf_a"] = {mark("leaf_a") - 1, mark("leaf_a")};
        body["leaf_b"] = {mark("leaf_b") - 1, mark("leaf_b")};
        body["chain_a"] = {mark("chain_a calls leaf_a") - 1, mark("chain_a calls leaf_a")};
        body["chain_b"] = {mark("chain_b calls leaf_b") - 1, mark("chain_b calls leaf_b")};
        body["busy"] = {mark("busy loop") - 2, mark("busy sleeps")};
        calls[{"chain_a", "leaf_a"}] = mark("chain_a calls leaf_a");
        calls[{"chain_b", "leaf_b"}] = mark("chain_b calls leaf_b");
        calls[{"busy", "chain_a"}] = mark("busy calls chain_a");
        calls[{"busy", "chain_b"}] = mark("busy calls chain_b");
    }

    // Empty when the stack is one the target can be in; else what is wrong with it.
    std::string fault(const sampler::ThreadStack& t) const {
        // The target's own frames, innermost first; they lie together in the stack.
        std::vector<std::size_t> own;
        for (std::size_t i = 0; i < t.frames.size(); ++i)
            if (t.frames[i].filename().ends_with("parked_and_busy.py")) own.push_back(i);
        if (own.empty()) return {};  // a thread in threading's start-up or end
        for (std::size_t k = 1; k < own.size(); ++k)
            if (own[k] != own[k - 1] + 1) return "the target's frames are not together";
        const auto& inner = t.frames[own.front()];
        const auto& outer = t.frames[own.back()];
        if (outer.function() == "parked") {
            if (own.size() != 1 || inner.line != line_of(file, "parked waits")) return "parked, but not at its wait";
            return {};
        }
        if (outer.function() == "<module>") {
            // From its READY on (the test starts then), into its loop.
            if (own.size() != 1 || inner.line < line_of(file, "ready") || inner.line > line_of(file, "main sleeps"))
                return "main, but not in its loop";
            return {};
        }
        if (outer.function() != "busy") return "a stack that starts in " + outer.function();
        // The innermost frame at any line of its function, each caller at its call.
        auto range = body.find(inner.function());
        if (range == body.end()) return "innermost frame in " + inner.function();
        if (own.front() != 0) return "frames above " + inner.function();
        if (inner.line < range->second.first || inner.line > range->second.second)
            return fmt::format("{} at line {}", inner.function(), inner.line);
        for (std::size_t k = 1; k < own.size(); ++k) {
            const auto& callee = t.frames[own[k - 1]];
            const auto& caller = t.frames[own[k]];
            auto call = calls.find({caller.function(), callee.function()});
            if (call == calls.end()) return caller.function() + " under which " + callee.function() + " runs";
            if (caller.line != call->second)
                return fmt::format("{} at line {} with {} above it", caller.function(), caller.line, callee.function());
        }
        return {};
    }
};

std::string describe(const sampler::ThreadStack& t) {
    std::string out;
    for (const auto& f : t.frames) out += fmt::format("{}{}:{}", out.empty() ? "" : " <- ", f.function(), f.line);
    return out;
}

struct BlockingRun {
    int samples = 0;
    int failed = 0;
    std::size_t stacks = 0, errors = 0, inexact = 0;
    int holders_only = 0;                 // samples that stopped only the GILs' holders
    std::size_t stopped_in_those = 0;     // threads those samples stopped
    std::string first_fault;
    std::string first_failure;
};

BlockingRun sample_blocking(sampler::PythonProcess& process, const TargetStacks& stacks, int samples,
                            bool blocking = true) {
    BlockingRun run;
    sampler::SampleOptions options;
    options.pause_threads = blocking;
    for (int i = 0; i < samples; ++i) {
        auto sample = process.sample(options);
        std::this_thread::sleep_for(1ms);
        ++run.samples;
        if (!sample) {
            if (run.failed++ == 0) run.first_failure = sample.error().message;
            continue;
        }
        if (blocking) {
            REQUIRE(sample->pause.has_value());
            if (!sample->pause->all_threads) {
                ++run.holders_only;
                run.stopped_in_those += sample->pause->threads_stopped;
            }
        }
        for (const auto& t : sample->threads) {
            ++run.stacks;
            if (t.error) {
                ++run.errors;
                continue;
            }
            if (auto fault = stacks.fault(t); !fault.empty()) {
                ++run.inexact;
                if (run.first_fault.empty()) run.first_fault = fault + ": " + describe(t);
            }
        }
    }
    return run;
}

void print(const std::string& what, const Interpreter& py, const BlockingRun& run,
           const sampler::PauseCounts& counts) {
    using sampler::PauseDoubt;
    using sampler::PauseStage;
    std::cout << fmt::format(
        "{}: {}: {} samples ({} failed{}), {} stacks, {} errors, {} inexact; {} with the GIL's holder(s) only "
        "({} threads stopped in those), all stopped: {} before, {} after the stop, {} after the reads "
        "(gil_free {}, holder_unknown {}, holder_not_stopped {}, cannot_tell {})\n",
        what, py.label, run.samples, run.failed, run.first_failure.empty() ? "" : ": " + run.first_failure,
        run.stacks, run.errors, run.inexact, run.holders_only, run.stopped_in_those, counts.at(PauseStage::all_before),
        counts.at(PauseStage::all_after_stop), counts.at(PauseStage::all_after_reads), counts.at(PauseDoubt::gil_free),
        counts.at(PauseDoubt::holder_unknown), counts.at(PauseDoubt::holder_not_stopped),
        counts.at(PauseDoubt::cannot_tell));
}

}  // namespace

TEST_CASE("blocking mode on many threads stops only the GIL's holder in most samples, and every stack is exact") {
    const TargetStacks stacks;
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {stacks.file, std::to_string(parked_threads), std::to_string(busy_threads)});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            auto run = sample_blocking(*process, stacks, 300);
            const auto& counts = process->pause_counts();
            print("blocking, busy in Python", py, run, counts);
            CHECK_MESSAGE(run.inexact == 0, run.first_fault);
            CHECK(run.failed <= run.samples / 20);
            CHECK(run.stacks >= static_cast<std::size_t>(run.samples - run.failed) * (parked_threads + busy_threads + 1));
            CHECK(run.errors * 100 <= run.stacks);
            // Every sample paused counts once (a failed pause counts not).
            CHECK(counts.samples + run.failed >= static_cast<std::uint64_t>(run.samples));
            CHECK(counts.holders_only() >= static_cast<std::uint64_t>(run.holders_only));
            // Four threads take turns at the GIL: its holder is most often stopped alone.
            // Not in 2.7, whose running thread lets go of the GIL every 100 bytecodes,
            // so that it is mostly found free (and then every thread is stopped).
            if (py.at_least(3, 0)) CHECK(run.holders_only * 2 >= run.samples);
            CHECK(run.stopped_in_those <= static_cast<std::size_t>(run.holders_only) * 2);
        }
    }
}

TEST_CASE("blocking mode stops every thread when busy threads keep letting go of the GIL, and every stack is exact") {
    const TargetStacks stacks;
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {stacks.file, std::to_string(parked_threads), std::to_string(busy_threads), "sleep0"});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            auto run = sample_blocking(*process, stacks, 300);
            const auto& counts = process->pause_counts();
            print("blocking, busy with time.sleep(0)", py, run, counts);
            CHECK_MESSAGE(run.inexact == 0, run.first_fault);
            CHECK(run.failed <= run.samples / 20);
            CHECK(run.errors * 100 <= run.stacks);
            // The GIL changes hands (or is free) under the pause often enough to need
            // every thread stopped, and that is counted.
            CHECK(counts.stopped_all() * 10 >= counts.samples);
            CHECK(counts.samples + run.failed >= static_cast<std::uint64_t>(run.samples));
        }
    }
}

namespace {

// The threads of pid in tracing stop.
std::vector<pid_t> traced_threads(pid_t pid) {
    std::vector<pid_t> out;
    for (const auto& task : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid))) {
        std::ifstream status(task.path() / "status");
        std::string line;
        while (std::getline(status, line))
            if (line.starts_with("State:") && line.find("t (tracing stop)") != std::string::npos)
                out.push_back(std::stoi(task.path().filename().string()));
    }
    std::ranges::sort(out);
    return out;
}

}  // namespace

TEST_CASE("a pause holds the threads it is given, widens to every thread, and lets all go") {
    auto py = interpreters().front();
    Target target(py, {target_path("parked_and_busy.py"), "8", "2"});
    REQUIRE(target.ready);
    auto tids = sampler::list_threads(target.pid());
    REQUIRE(tids);
    REQUIRE(tids->size() >= 11);
    std::ranges::sort(*tids);
    sampler::StragglerThreads stragglers;
    {
        const std::vector<pid_t> two = {(*tids)[3], (*tids)[5], (*tids)[5]};
        auto pause = sampler::ThreadPause::pause_threads(target.pid(), two, stragglers);
        REQUIRE_MESSAGE(pause, pause.error().message);
        std::vector<pid_t> expected = {(*tids)[3], (*tids)[5]};
        std::ranges::sort(expected);
        CHECK(traced_threads(target.pid()) == expected);
        CHECK(pause->holds((*tids)[3]));
        CHECK(!pause->holds((*tids)[4]));
        REQUIRE(pause->pause_the_rest(stragglers));
        CHECK(pause->paused().size() == tids->size());
        CHECK(traced_threads(target.pid()) == *tids);
    }
    // Released: the kernel shows a detached thread as stopped no more at once.
    std::vector<pid_t> left;
    for (int i = 0; i < 100 && !(left = traced_threads(target.pid())).empty(); ++i) std::this_thread::sleep_for(5ms);
    CHECK(left.empty());
    // A thread that has exited is skipped, not an error.
    const std::vector<pid_t> gone = {999999};
    auto none = sampler::ThreadPause::pause_threads(target.pid(), gone, stragglers);
    REQUIRE(none);
    CHECK(none->paused().empty());
}
