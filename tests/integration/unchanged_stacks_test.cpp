// Parked threads' stacks are reused while the kernel's run counts prove the threads
// have not run (sampler/unchanged_stacks.hpp). Against threads that wake every few
// milliseconds and wait again from another call site at the same depth, every reuse
// is checked against a fresh read of the same thread wherever the thread did not run
// during that read either: not one may differ. Reading a thread's run count after
// the sample's first memory read instead of before it made 18 to 48 of about 25,000
// per interpreter stale here. Run twice: with run counts only, and with sched-in
// watches on every thread reused once (sched_in_watch.hpp), so that the waking
// threads are watched most of the time they wait.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "sampler/python_process.hpp"
#include "sampler/sched_in_watch.hpp"
#include "tests/integration/dump_support.hpp"

using namespace pyprofd;
using namespace pyprofd::tests;

TEST_CASE("a parked thread's stack is reused only while it provably has not run: never a stale one") {
    const int samples = 500;
    const bool watches = sampler::sched_in_watches_work();
    if (!watches) MESSAGE("sched-in watches: not allowed or not working on this kernel; only run counts are tested");
    for (const auto& py : interpreters())
      for (std::uint32_t watch_after : {0U, 1U}) {
        if (watch_after > 0 && !watches) continue;
        SUBCASE((py.label + (watch_after ? ", watched" : ", run counts only")).c_str()) {
            Target target(py, {target_path("waking_threads.py"), "30", "30"});
            REQUIRE(target.ready);
            auto process = sampler::PythonProcess::attach(target.pid());
            REQUIRE_MESSAGE(process, process.error().message);
            sampler::SampleOptions options;
            options.check_reused_stacks = true;
            options.watch_parked_after = watch_after;
            std::set<std::string> waiting_sites;  // where the waking threads were seen waiting
            std::size_t parked_stacks = 0, parked_wrong = 0;
            for (int i = 0; i < samples; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                auto sample = process->sample(options);
                if (!sample) continue;
                for (const auto& t : sample->threads) {
                    if (t.error || t.frames.empty()) continue;
                    if (t.name.starts_with("waking-"))
                        for (const auto& f : t.frames)
                            if (f.function().ends_with("wait_here") || f.function().ends_with("wait_there"))
                                waiting_sites.insert(f.function());
                    if (t.name.starts_with("parked-")) {
                        ++parked_stacks;
                        // Its OS thread, found (before 3.11, from 60 pthread descriptors read in one call).
                        parked_wrong += !std::filesystem::exists("/proc/" + std::to_string(target.pid()) + "/task/" +
                                                                 std::to_string(t.native_id));
                        // Parked for good: waiting in threading, called from the thread's run.
                        bool waits = std::ranges::any_of(t.frames, [](const auto& f) { return f.function().ends_with("wait"); });
                        parked_wrong += !waits || t.activity != sampler::ThreadActivity::idle;
                    }
                }
            }
            auto cost = process->cost();
            std::cout << "unchanged stacks: " << py.label << (watch_after ? ", watched" : "") << ": "
                      << cost.stacks_reused << " reused (" << cost.reuses_watched << " on a watch), "
                      << cost.stacks_read << " read, " << cost.reused_checked << " reuses checked, "
                      << cost.reused_stale << " stale\n";
            if (watch_after)
                CHECK_MESSAGE(cost.reuses_watched > cost.stacks_reused / 2, "most reuses are on a watch");
            else
                CHECK(cost.reuses_watched == 0);
            CHECK_MESSAGE(cost.stacks_reused > samples * 10,
                          "the 30 threads parked for good are reused, not read again each sample");
            CHECK(cost.reused_checked > samples * 5);
            CHECK(cost.reused_stale == 0);
            CHECK(parked_stacks > samples * 25);
            CHECK(parked_wrong == 0);
            // The waking threads are read afresh when they ran: both sites show up.
            CHECK(waiting_sites.size() == 2);
        }
      }
}
