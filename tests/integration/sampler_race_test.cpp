// Reads race with the running target: against a program whose stacks, threads and
// code objects change all the time, sampling must never crash or hang, every name
// must be valid UTF-8, a failed read costs only that thread's sample, and failed
// reads are rare.
#include <doctest/doctest.h>

#include <thread>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "sampler/python_process.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;

namespace {

bool valid_utf8(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : 9;
        if (n == 9 || i + n >= s.size() + (n == 0 ? 1 : 0)) {
            if (n != 0) return false;
        }
        for (std::size_t k = 1; k <= n; ++k)
            if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

}  // namespace

TEST_CASE("sampling a target whose stacks change all the time never crashes and never prints garbage") {
    const int samples = 400;
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("churn.py")});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            int good = 0, thread_errors = 0, failed = 0;
            for (int i = 0; i < samples; ++i) {
                auto sample = process->sample();
                if (!sample) {
                    ++failed;  // the whole sample raced (thread list changing): allowed, counted
                    continue;
                }
                for (const auto& t : sample->threads) {
                    if (t.error) {
                        ++thread_errors;
                        CHECK(!t.error->message.empty());
                        continue;
                    }
                    ++good;
                    CHECK(valid_utf8(t.name.str()));
                    for (const auto& f : t.frames) {
                        CHECK(valid_utf8(f.function()));
                        CHECK(valid_utf8(f.filename()));
                        CHECK(!f.function().empty());
                        CHECK(f.line >= -1);
                    }
                }
            }
            CHECK(::kill(target.pid(), 0) == 0);  // the target is untouched
            std::cout << "race: " << py.label << ": " << samples << " samples, " << good << " thread stacks read, "
                      << thread_errors << " thread reads failed, " << failed << " whole samples failed\n";
            CHECK(good > samples);  // most reads succeed: the main thread and two churners
            // A stack that changed under the reads is read again, and a thread that ended
            // meanwhile is left out: errors stay rare (reading each stack once, 1-3% of
            // thread reads failed here).
            CHECK(thread_errors * 100 <= good);
            CHECK(failed < samples / 20);
        }
    }
}

TEST_CASE("a repeated sample of a steady program is one read: last sample's pages and code checks together") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("deep.py"), "40"});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            sampler::SampleOptions options;
            auto first_start = process->memory_reads();
            auto first = process->sample(options);
            REQUIRE(first);
            auto first_reads = process->memory_reads() - first_start;
            REQUIRE(process->sample(options));  // learns which pages and code objects a sample uses
            auto steady_start = process->memory_reads();
            auto steady = process->sample(options);
            REQUIRE(steady);
            auto steady_reads = process->memory_reads() - steady_start;
            std::size_t frames = 0;
            for (const auto& t : steady->threads) frames += t.frames.size();
            INFO("first sample " << first_reads << " reads, steady " << steady_reads << " reads, " << frames
                                 << " frames, " << process->pages_per_sample() << " pages");
            CHECK(frames >= 42);
            CHECK(steady_reads == 1);
            CHECK(first_reads > 10);
        }
    }
}

TEST_CASE("3.14+: a steady program's code objects are vouched for by the interpreter's count, not read again") {
    // 3.14 counts the code objects it frees: while the count stays, the cache's
    // entries are still what they were, and their headers are not read. Older
    // versions keep no such count and check every sample.
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("deep.py"), "40"});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            const bool counted = process->layout().interpreter.code_object_generation != sampler::absent;
            CHECK(counted == py.at_least(3, 14));
            for (int round = 0; round < 4; ++round) REQUIRE(process->sample());
            const auto before = process->cost();
            std::size_t frames = 0;
            for (int round = 0; round < 10; ++round) {
                auto sample = process->sample();
                REQUIRE(sample);
                for (const auto& t : sample->threads) frames += t.frames.size();
            }
            const auto after = process->cost();
            INFO("header checks " << after.code_header_checks - before.code_header_checks << ", vouched "
                                  << after.code_epoch_checks - before.code_epoch_checks << ", frames " << frames);
            CHECK(frames >= 10 * 42);
            if (counted) {
                // A program at rest frees nothing; allow one epoch's worth of checks
                // in case something of the interpreter's own was freed meanwhile.
                CHECK(after.code_header_checks - before.code_header_checks <= 10);
                CHECK(after.code_epoch_checks - before.code_epoch_checks >= 8 * 3);
            } else {
                CHECK(after.code_header_checks - before.code_header_checks >= 10 * 3);
                CHECK(after.code_epoch_checks == 0);
            }
        }
    }
}

TEST_CASE("a code object freed and another made at its address is not named after the old one") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("stale_code.py")});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            auto latest = [&] {
                target.child.read_available();
                const auto& out = target.child.output();
                auto at = out.rfind("NOW ");
                return at == std::string::npos ? 0 : std::stoi(out.substr(at + 4));
            };
            int checked = 0;
            for (int round = 0; round < 60; ++round) {
                std::this_thread::sleep_for(std::chrono::milliseconds(13));
                int before = latest();
                auto sample = process->sample();
                int after = latest();
                REQUIRE(sample);
                for (const auto& t : sample->threads)
                    for (const auto& f : t.frames)
                        if (f.function().starts_with("generated_")) {
                            int shown = std::stoi(f.function().substr(10));
                            INFO("sampled " << f.function() << " while the target said NOW " << before << ".." << after);
                            CHECK(shown >= before);
                            CHECK(shown <= after + 1);
                            ++checked;
                        }
            }
            CHECK(checked > 30);
        }
    }
}

TEST_CASE("threads that start and end all the time are not read errors, and no sample fails for them") {
    const int samples = 4000;
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("brief_threads.py")});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            int failed = 0, thread_errors = 0, stacks = 0, handling = 0;
            std::string first_error;
            for (int i = 0; i < samples; ++i) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                auto sample = process->sample();
                if (!sample) {
                    ++failed;
                    if (first_error.empty()) first_error = sample.error().message;
                    continue;
                }
                for (const auto& t : sample->threads) {
                    if (t.error) {
                        ++thread_errors;
                        if (first_error.empty()) first_error = t.error->message;
                        continue;
                    }
                    ++stacks;
                    handling += std::ranges::any_of(t.frames, [](const auto& f) { return f.function().ends_with("handle"); });
                }
            }
            std::cout << "brief threads: " << py.label << ": " << samples << " samples, " << stacks << " stacks ("
                      << handling << " in a request), " << thread_errors << " thread errors, " << failed
                      << " failed samples" << (first_error.empty() ? "" : "; first: " + first_error) << "\n";
            CHECK(handling > samples / 40);  // the threads were seen at work
            // A thread that ended while it was read is left out, not an error; a list
            // that changed under the read is read again: at most one failed sample in
            // 2,000 (the seed's goal, 0.05%; before, up to 22 in 4,000). A thread read
            // while preempted between linking a new frame and filling it in (3.11 and
            // 3.12, going from C back into Python, which this target does all the time)
            // still fails its read now and then, more often on a loaded host (3.12: 0.5%
            // to 1% of samples at a load average of 12): at most 3%.
            CHECK(failed * 2000 <= samples);
            CHECK(thread_errors * 100 <= samples * 3);
        }
    }
}
