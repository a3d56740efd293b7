// A thread's state as ThreadActivityReader reads it, from its wait channel and from
// its stat line: this test's own threads, one blocked reading a pipe (the PipeWaiter
// the trials use), one spinning.
// Both sources agree on them; the wait channel is what this kernel is found to name.
#include <doctest/doctest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "sampler/thread_activity.hpp"

using namespace pyprofd::sampler;
using namespace std::chrono_literals;

namespace {

// A thread of this test spinning on its CPU until the object goes.
class Spinner {
public:
    Spinner() {
        thread_ = std::thread([this] {
            tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
            while (!stop_) {
            }
        });
        while (tid_ == 0) std::this_thread::yield();
    }
    ~Spinner() {
        stop_ = true;
        thread_.join();
    }
    pid_t tid() const { return tid_; }

private:
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace

TEST_CASE("this kernel's wait channels name where a sleeping thread waits") {
    CHECK_MESSAGE(try_wait_channels(), "no function named for a thread blocked on a pipe: thread states come from "
                                       "stat lines here, and the wait-channel cases below say nothing");
    CHECK(wait_channels_name_sleepers() == try_wait_channels());
    DescriptorBudget budget(4);
    ThreadActivityReader best(::getpid(), budget);
    CHECK(best.source() == (wait_channels_name_sleepers() ? ThreadStateSource::wait_channel
                                                          : ThreadStateSource::stat_line));
}

TEST_CASE("a waiting thread is idle and off its run queue, a spinning one running, by either source") {
    PipeWaiter waiting;  // blocked reading a pipe
    REQUIRE(waiting.tid() != 0);
    Spinner spinning;
    for (auto source : {ThreadStateSource::wait_channel, ThreadStateSource::stat_line}) {
        CAPTURE(static_cast<int>(source));
        DescriptorBudget budget(8);
        ThreadActivityReader threads(::getpid(), budget, source);
        CHECK(threads.source() == source);
        // Blocked once its read found the pipe empty: waited for, not assumed (a busy
        // host may not have run it yet).
        for (int i = 0; i < 3000 && !threads.off_run_queue(waiting.tid()); ++i) std::this_thread::sleep_for(1ms);
        CHECK(threads.off_run_queue(waiting.tid()));
        CHECK(threads.read(waiting.tid()) == ThreadActivity::idle);
        // On a CPU, or ready for one on a busy host: running either way.
        CHECK(threads.read(spinning.tid()) == ThreadActivity::running);
        CHECK_FALSE(threads.off_run_queue(spinning.tid()));
        CHECK(threads.read(0) == ThreadActivity::unknown);
        // One file kept per thread for its state: asking whether it is off its run
        // queue opens none more where that file is its wait channel.
        CHECK(threads.open_files() == 2);
    }
}

TEST_CASE("a thread that has ended reads as unknown, and its file is let go") {
    std::optional<PipeWaiter> waiting(std::in_place);
    const pid_t tid = waiting->tid();
    REQUIRE(tid != 0);
    DescriptorBudget budget(4);
    ThreadActivityReader threads(::getpid(), budget, ThreadStateSource::wait_channel);
    CHECK(threads.read(tid) != ThreadActivity::unknown);
    CHECK(threads.open_files() == 1);
    waiting.reset();  // its pipe closed, it ends
    // The task lingers a moment after join() returns.
    for (int i = 0; i < 2000 && threads.read(tid) != ThreadActivity::unknown; ++i) std::this_thread::sleep_for(1ms);
    CHECK(threads.read(tid) == ThreadActivity::unknown);
    CHECK(threads.open_files() == 0);
}
