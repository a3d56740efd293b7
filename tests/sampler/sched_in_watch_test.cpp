// Sched-in watches (sched_in_watch.hpp) on this test's own threads: untouched while
// a thread waits, touched once it has been woken, hung up once it has exited.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sampler/sched_in_watch.hpp"
#include "sampler/thread_activity.hpp"

using namespace pyprofd::sampler;
using namespace std::chrono_literals;

namespace {

// A thread that waits on a pipe, taking a byte at a time, until the pipe is closed.
struct WaitingThread {
    int ends[2] = {-1, -1};
    std::atomic<pid_t> tid{0};
    std::thread thread;
    WaitingThread() {
        REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
        thread = std::thread([this] {
            tid = static_cast<pid_t>(::syscall(SYS_gettid));
            char byte;
            while (::read(ends[0], &byte, 1) == 1) {
            }
        });
        while (tid == 0) std::this_thread::yield();
        wait_until_waiting();
    }
    // Off its run queue, as its read found the pipe empty: proven, not assumed after
    // a pause (a busy host may not have run it yet).
    void wait_until_waiting() {
        DescriptorBudget budget(2);
        ThreadActivityReader threads(::getpid(), budget);
        for (int i = 0; i < 2000 && !threads.off_run_queue(tid); ++i) std::this_thread::sleep_for(1ms);
        REQUIRE(threads.off_run_queue(tid));
    }
    void wake() {
        DescriptorBudget budget(2);
        ThreadActivityReader threads(::getpid(), budget);
        auto before = threads.run_count(tid);
        REQUIRE(before.has_value());
        char byte = 1;
        REQUIRE(::write(ends[1], &byte, 1) == 1);
        // It ran, and waits again.
        for (int i = 0; i < 2000 && threads.run_count(tid) == before; ++i) std::this_thread::sleep_for(1ms);
        REQUIRE(threads.run_count(tid) != before);
        wait_until_waiting();
    }
    void end() {
        if (ends[1] >= 0) ::close(ends[1]);
        ends[1] = -1;
        if (thread.joinable()) thread.join();
    }
    ~WaitingThread() {
        end();
        ::close(ends[0]);
    }
};

bool watches_here() {
    if (sched_in_watches_work()) return true;
    MESSAGE("skipped: this kernel does not allow sched-in watches here (perf events), so run counts are read");
    return false;
}

}  // namespace

TEST_CASE("a watch stays untouched while its thread waits, and is touched once the thread is woken") {
    if (!watches_here()) return;
    WaitingThread waiter;
    auto watch = SchedInWatch::arm(waiter.tid);
    REQUIRE(watch.has_value());
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(5ms);
        CHECK(watch->untouched());
    }
    waiter.wake();
    CHECK_FALSE(watch->untouched());
}

TEST_CASE("a watch set: each watch sees its own thread only; an exited thread's watch is dropped; the budget is kept") {
    if (!watches_here()) return;
    DescriptorBudget budget(2);
    SchedInWatchSet set(budget);
    WaitingThread first, second, third;
    CHECK(set.arm(1, first.tid));
    CHECK(set.arm(2, second.tid));
    CHECK_FALSE(set.arm(3, third.tid));  // past the budget
    CHECK(budget.held() == 2);
    first.wake();
    CHECK_FALSE(set.untouched(1));
    CHECK(set.untouched(2));
    CHECK_FALSE(set.untouched(3));  // none there

    set.drop_exited();
    CHECK(set.size() == 2);
    second.end();
    set.drop_exited();
    CHECK_FALSE(set.has(2));
    CHECK(set.has(1));
    CHECK(budget.held() == 1);
    set.disarm(1);
    CHECK(budget.held() == 0);
}

// The daemon finds out once, at its start, whether watches work here, and lives with
// the answer. A host busy at that moment (a boot, a build) must not turn them off
// for the daemon's whole life: the trial holds when every CPU is taken. Whether to
// skip is decided by a trial on a quiet host, not by the answer cached at the first
// use (which a busy host might have made wrong).
TEST_CASE("whether watches work is found out right on a host whose CPUs are all busy") {
    if (!try_sched_in_watches()) {
        MESSAGE("skipped: this kernel does not allow sched-in watches here (perf events, wait channels or "
                "schedstat), so run counts are read");
        return;
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> spinners;
    const unsigned cpus = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    for (unsigned i = 0; i < 3 * cpus; ++i)
        spinners.emplace_back([&stop] {
            while (!stop.load(std::memory_order_relaxed)) {
            }
        });
    int works = 0;
    const int tries = 10;
    for (int i = 0; i < tries; ++i) works += try_sched_in_watches();
    stop = true;
    for (auto& spinner : spinners) spinner.join();
    CHECK(works == tries);
}
