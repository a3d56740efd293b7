// Which threads blocking mode stops, and when that is proven enough: the GIL's
// holder word must name a thread state that is one thread's alone, and stopped.
#include <doctest/doctest.h>

#include <vector>

#include "sampler/pause_proof.hpp"

using namespace pyprofd::sampler;

namespace {

ThreadStateTasks tasks_of(std::vector<ThreadStateTasks::Entry> entries) {
    ThreadStateTasks tasks;
    tasks.assign(entries);
    return tasks;
}

using Holders = std::optional<std::vector<RemoteAddress>>;

}  // namespace

TEST_CASE("a thread state is placed on its thread only where no other claims the same ids") {
    auto tasks = tasks_of({{0x1000, 11, 101}, {0x2000, 22, 102}, {0x3000, 22, 103}, {0x4000, 44, 0},
                           {0x5000, 55, 105}, {0x6000, 66, 105}});
    CHECK(tasks.task_of(0x1000) == 101);
    // Same ident (a new thread state still carrying its creator's ids): neither is placed.
    CHECK(!tasks.task_of(0x2000));
    CHECK(!tasks.task_of(0x3000));
    CHECK(!tasks.task_of(0x4000));  // no thread found
    CHECK(!tasks.task_of(0x5000));  // same thread for two thread states
    CHECK(!tasks.task_of(0x6000));
    CHECK(!tasks.task_of(0x7000));  // not listed
    // A later sample replaces what was known.
    tasks.assign(std::vector<ThreadStateTasks::Entry>{{0x2000, 22, 102}});
    CHECK(tasks.task_of(0x2000) == 102);
    CHECK(!tasks.task_of(0x1000));
}

TEST_CASE("the GIL's holders are stopped alone only where each is known") {
    auto tasks = tasks_of({{0x1000, 11, 101}, {0x2000, 22, 102}, {0x3000, 33, 103}});
    CHECK(holders_to_stop(Holders{{0x2000}}, tasks) == std::vector<pid_t>{102});
    CHECK(holders_to_stop(Holders{{0x2000, 0x3000}}, tasks) == std::vector<pid_t>{102, 103});
    CHECK(!holders_to_stop(std::nullopt, tasks));           // the version cannot say
    CHECK(!holders_to_stop(Holders{std::vector<RemoteAddress>{}}, tasks));
    CHECK(!holders_to_stop(Holders{{0}}, tasks));           // the GIL is free
    CHECK(!holders_to_stop(Holders{{0x2000, 0}}, tasks));   // one of two GILs is free
    CHECK(!holders_to_stop(Holders{{0x9000}}, tasks));      // a thread state not seen before
}

TEST_CASE("a sample is proven exact only while every GIL's word names a stopped thread") {
    auto tasks = tasks_of({{0x1000, 11, 101}, {0x2000, 22, 102}, {0x3000, 33, 103}});
    const std::vector<pid_t> stopped = {102};
    CHECK(doubt_about(Holders{{0x2000}}, tasks, stopped) == PauseDoubt::none);
    CHECK(doubt_about(Holders{{0x1000}}, tasks, stopped) == PauseDoubt::holder_not_stopped);
    CHECK(doubt_about(Holders{{0x2000, 0x1000}}, tasks, stopped) == PauseDoubt::holder_not_stopped);
    CHECK(doubt_about(Holders{{0}}, tasks, stopped) == PauseDoubt::gil_free);
    CHECK(doubt_about(Holders{{0x9000}}, tasks, stopped) == PauseDoubt::holder_unknown);
    CHECK(doubt_about(std::nullopt, tasks, stopped) == PauseDoubt::cannot_tell);
    CHECK(doubt_about(Holders{{0x2000}}, tasks, {}) == PauseDoubt::holder_not_stopped);
    const std::vector<pid_t> both = {102, 103};
    CHECK(doubt_about(Holders{{0x2000, 0x3000}}, tasks, both) == PauseDoubt::none);
}

TEST_CASE("doubts have names") {
    CHECK(std::string(to_string(PauseDoubt::gil_free)) == "gil_free");
    CHECK(std::string(to_string(PauseDoubt::holder_not_stopped)) == "holder_not_stopped");
}

TEST_CASE("blocking samples are counted by which threads they stopped, and why all") {
    PauseCounts counts;
    counts.add(PauseStage::holders_only, PauseDoubt::none, 1);
    counts.add(PauseStage::holders_only, PauseDoubt::none, 2);
    counts.add(PauseStage::all_before, PauseDoubt::gil_free, 160);
    counts.add(PauseStage::all_after_reads, PauseDoubt::holder_not_stopped, 161);
    CHECK(counts.samples == 4);
    CHECK(counts.holders_only() == 2);
    CHECK(counts.stopped_all() == 2);
    CHECK(counts.threads_stopped == 324);
    CHECK(counts.at(PauseStage::all_before) == 1);
    CHECK(counts.at(PauseStage::all_after_stop) == 0);
    CHECK(counts.at(PauseStage::all_after_reads) == 1);
    CHECK(counts.at(PauseDoubt::gil_free) == 1);
    CHECK(counts.at(PauseDoubt::holder_not_stopped) == 1);
    CHECK(counts.at(PauseDoubt::none) == 0);
}
