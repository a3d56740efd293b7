// The rules under which a parked thread's stack is reused (unchanged_stacks.hpp),
// on the real /proc of this test's own threads: one that sleeps throughout, one
// that runs between samples.
#include <doctest/doctest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "sampler/sched_in_watch.hpp"
#include "sampler/unchanged_stacks.hpp"

using namespace pyprofd::sampler;

namespace {

pid_t this_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

FrameList one_frame(const char* function, int line) {
    auto code = std::make_shared<CodeInfo>();
    code->function = function;
    code->filename = "app.py";
    return FrameList({Frame{code, line}});
}

// A thread that sleeps until told to stop, and says its id.
struct SleepingThread {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> stop{false};
    std::thread thread{[this] {
        tid = this_tid();
        while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }};
    SleepingThread() {
        while (tid == 0) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // asleep now
    }
    ~SleepingThread() {
        stop = true;
        thread.join();
    }
};

}  // namespace

TEST_CASE("a thread that has not run since its stack was read is reused; one that ran is not") {
    SleepingThread sleeper;
    ThreadActivityReader activity(::getpid());
    if (!activity.run_count(sleeper.tid)) {
        MESSAGE("skipped: this kernel keeps no schedstat, so no stack is ever reused");
        return;
    }
    UnchangedStacks stacks;
    ThreadKey parked{0x1000, 1, sleeper.tid, 0x5000};
    ThreadKey running{0x2000, 2, this_tid(), 0x6000};
    auto frames = one_frame("wait", 10);
    std::vector<RemoteAddress> pages{0x7000, 0x8000};

    // First sample: nothing known; both read. A new thread has no count taken before
    // its read, so it is not reusable after one sample either.
    stacks.start_sample(activity);
    CHECK(!stacks.unchanged(parked));
    stacks.remember(parked, frames, pages, true);
    stacks.remember(running, frames, pages, false);
    stacks.end_sample();

    // Second: counts taken now vouch for what this sample reads.
    stacks.start_sample(activity);
    CHECK(!stacks.unchanged(parked));
    std::vector<RemoteAddress> again;
    stacks.pages_to_read_again(again);
    CHECK(again.size() == 4);  // neither is proven yet: both threads' pages come back
    stacks.remember(parked, frames, pages, true);
    stacks.remember(running, frames, pages, false);
    stacks.end_sample();

    // Third: the sleeper has not been put on a CPU since (it sleeps 200 ms at a time).
    stacks.start_sample(activity);
    const auto* reused = stacks.unchanged(parked);
    REQUIRE(reused);
    CHECK(reused->front().line == 10);
    CHECK(reused->same_as(frames));  // the frames read, shared: not a copy
    CHECK(!stacks.unchanged(running));  // it was on a CPU when its state was read
    again.clear();
    stacks.pages_to_read_again(again);
    CHECK(again.size() == 2);  // only the running thread's pages
    // Another thread in the same thread state, or the same one with another frame: no.
    CHECK(!stacks.unchanged({0x1000, 3, sleeper.tid, 0x5000}));
    CHECK(!stacks.unchanged({0x1000, 1, sleeper.tid, 0x5008}));
    stacks.remember(running, frames, pages, false);
    stacks.end_sample();

    // Woken: its count moves, and its stack is read again.
    sleeper.stop = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stacks.start_sample(activity);
    CHECK(!stacks.unchanged(parked));
    stacks.end_sample();
    CHECK(stacks.size() == 0);  // neither was met in that sample: both forgotten
}

TEST_CASE("a thread read for its state and for its run count in turns keeps both files open, and ends with neither") {
    ThreadActivityReader activity(::getpid());
    pid_t ended = 0;
    {
        SleepingThread sleeper;
        ended = sleeper.tid;
        // As a parked thread is read: its state in its first two samples, its run count
        // from the second on: one file.
        CHECK(activity.read(sleeper.tid) == ThreadActivity::idle);
        if (!activity.run_count(sleeper.tid)) {
            MESSAGE("skipped: this kernel keeps no schedstat");
            return;
        }
        CHECK(activity.read(sleeper.tid) == ThreadActivity::idle);
        for (int i = 0; i < 5; ++i) CHECK(activity.run_count(sleeper.tid).has_value());
        CHECK(activity.open_files() == 1);
        // In turns (a thread that wakes now and then): both, kept.
        for (int i = 0; i < 5; ++i) {
            CHECK(activity.read(sleeper.tid) == ThreadActivity::idle);
            CHECK(activity.run_count(sleeper.tid).has_value());
        }
        CHECK(activity.open_files() == 2);  // not closed and opened again at each change of kind
        CHECK(activity.threads_with_files() == 1);
        CHECK(activity.run_count(this_tid()).has_value());
        CHECK(activity.open_files() == 3);
    }
    // The thread is gone: its files say so, and are let go. (join() returns once the
    // thread has woken its joiner on its way out, which it may still be running:
    // gone means gone from /proc.)
    const auto task = "/proc/self/task/" + std::to_string(ended);
    for (int i = 0; i < 1000 && std::filesystem::exists(task); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE_FALSE(std::filesystem::exists(task));
    CHECK(activity.read(ended) == ThreadActivity::unknown);
    CHECK(!activity.run_count(ended));
    CHECK(activity.threads_with_files() == 1);
    CHECK(activity.open_files() == 1);
    pid_t live[] = {ended};
    activity.keep_only(live);
    CHECK(activity.open_files() == 0);
}

TEST_CASE("a parked thread a sched-in watch vouches for keeps no thread file open; woken, its count is read again") {
    if (!sched_in_watches_work()) {
        MESSAGE("skipped: perf events are refused here, so no thread is watched");
        return;
    }
    // Parked on a pipe until written to once: no wake-up in between, unlike a sleep.
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    std::atomic<pid_t> tid{0};
    std::thread parked_thread([&] {
        tid = this_tid();
        char byte;
        (void)!::read(pipe_fds[0], &byte, 1);
        (void)!::read(pipe_fds[0], &byte, 1);  // parked again, until the pipe closes
    });
    while (tid == 0) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // parked now

    ThreadActivityReader activity(::getpid());
    if (!activity.run_count(tid) || !activity.off_run_queue(tid)) {
        MESSAGE("skipped: this kernel keeps no schedstat, or names no wchan, so no thread is watched");
        ::close(pipe_fds[1]);
        parked_thread.join();
        ::close(pipe_fds[0]);
        return;
    }
    activity.release(tid);  // as if never read
    UnchangedStacks stacks;
    ThreadKey parked{0x1000, 1, tid, 0x5000};
    auto frames = one_frame("wait", 10);
    std::vector<RemoteAddress> pages{0x7000};
    auto sample = [&] {
        stacks.start_sample(activity, 1);
        bool reused = stacks.unchanged(parked) != nullptr;
        if (!reused) stacks.remember(parked, frames, pages, true);
        stacks.end_sample();
        return reused;
    };
    CHECK(!sample());  // new
    CHECK(!sample());  // a count now vouches for the next
    CHECK(sample());   // reused on its count
    CHECK(sample());   // a watch armed, proven by its count
    CHECK(activity.open_files() == 1);
    CHECK(sample());  // vouched for by the watch alone: its file goes
    CHECK(stacks.watched_reuses() == 1);
    CHECK(activity.open_files() == 0);
    CHECK(sample());
    CHECK(stacks.watched_reuses() == 2);
    CHECK(activity.open_files() == 0);

    REQUIRE(::write(pipe_fds[1], "x", 1) == 1);  // woken once, parked again
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(!sample());  // the watch saw it run: read afresh
    CHECK(activity.open_files() == 1);  // its count read, and its file kept, again
    CHECK(stacks.watched_reuses() == 2);
    ::close(pipe_fds[1]);
    parked_thread.join();
    ::close(pipe_fds[0]);
}

TEST_CASE("a thread found to have run each time its count was read has it read less often, and is reused once it parks") {
    ThreadActivityReader activity(::getpid());
    std::atomic<pid_t> tid{0};
    std::atomic<bool> spin{true}, stop{false};
    std::thread worker([&] {
        tid = this_tid();
        // Runs in short bursts, as a thread that waits for the GIL now and then.
        while (!stop) std::this_thread::sleep_for(spin ? std::chrono::microseconds(50) : std::chrono::milliseconds(200));
    });
    while (tid == 0) std::this_thread::yield();
    struct Joined {
        std::atomic<bool>& stop;
        std::thread& thread;
        ~Joined() {
            stop = true;
            thread.join();
        }
    } joined{stop, worker};
    if (!activity.run_count(tid)) {
        MESSAGE("skipped: this kernel keeps no schedstat");
        return;
    }
    UnchangedStacks stacks;
    // Found off a CPU each time its state is read, yet it runs between samples.
    ThreadKey busy{0x1000, 1, tid, 0x5000};
    auto frames = one_frame("work", 3);
    const int samples = 40;
    int counted = 0;
    for (int i = 0; i < samples; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        stacks.start_sample(activity);
        counted += stacks.count_at_start(busy).has_value();
        // (Reused where it happened not to run: a busy host can keep it waiting.)
        if (!stacks.unchanged(busy)) stacks.remember(busy, frames, {}, true);
        stacks.end_sample();
    }
    CHECK(counted > 3);            // still read now and then
    CHECK(counted < samples / 2);  // not each sample: 1, 2, 4, then 8 skipped, two counts between
    // Parked now: its stack is reused within the most samples skipped and the two
    // counts that prove it (the first of them only sets the count it is held to).
    spin = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int until_reused = 0;
    for (; until_reused < 20; ++until_reused) {
        stacks.start_sample(activity);
        bool reused = stacks.unchanged(busy) != nullptr;
        if (!reused) stacks.remember(busy, frames, {}, true);
        stacks.end_sample();
        if (reused) break;
    }
    CHECK(until_reused <= 8 + 2);
}
