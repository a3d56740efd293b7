#include "sampler/sched_in_watch.hpp"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "sampler/remote_limits.hpp"
#include "sampler/thread_activity.hpp"

namespace pyprofd::sampler {

namespace {

std::size_t page_size() {
    static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

std::uint32_t page_lock(const void* page) {
    // The page header's seqlock; odd while the kernel rewrites the header.
    return __atomic_load_n(&static_cast<const perf_event_mmap_page*>(page)->lock, __ATOMIC_ACQUIRE);
}

}  // namespace

std::optional<SchedInWatch> SchedInWatch::arm(pid_t tid) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    // Any software event is scheduled in with its thread; this one records nothing
    // (no sample period). User space only: what an unprivileged perf_event_paranoid
    // of 2 allows with no CAP_PERFMON, and the kernel's count is not what is wanted.
    attr.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    int fd = static_cast<int>(::syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) return std::nullopt;
    void* page = ::mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, fd, 0);
    if (page == MAP_FAILED) {  // out of locked memory (perf_event_mlock_kb, RLIMIT_MEMLOCK)
        ::close(fd);
        return std::nullopt;
    }
    return SchedInWatch(fd, page);
}

SchedInWatch::SchedInWatch(int fd, void* page) : fd_(fd), page_(page), lock_at_arm_(page_lock(page)) {}

SchedInWatch::SchedInWatch(SchedInWatch&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), page_(std::exchange(other.page_, nullptr)), lock_at_arm_(other.lock_at_arm_) {}

SchedInWatch& SchedInWatch::operator=(SchedInWatch&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::exchange(other.fd_, -1);
        page_ = std::exchange(other.page_, nullptr);
        lock_at_arm_ = other.lock_at_arm_;
    }
    return *this;
}

SchedInWatch::~SchedInWatch() { release(); }

void SchedInWatch::release() {
    if (page_) ::munmap(page_, page_size());
    if (fd_ >= 0) ::close(fd_);
    page_ = nullptr;
    fd_ = -1;
}

bool SchedInWatch::untouched() const {
    auto lock = page_lock(page_);
    return lock == lock_at_arm_ && (lock & 1) == 0;
}

namespace {

// One round of the trial, on a thread waiting on a pipe (PipeWaiter).
enum class Round { holds, fails, unsure };
using Clock = std::chrono::steady_clock;

// Polls `done` each millisecond until it holds (true) or the deadline passes (false).
template <class Done>
bool wait_until(Done done, Clock::time_point deadline) {
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

Round try_one_round(ThreadActivityReader& threads, PipeWaiter& waiter, Clock::time_point deadline) {
    const pid_t tid = waiter.tid();
    // A kernel that names no wait channels, where sampling never arms a watch either.
    switch (wait_off_run_queue(threads, tid, deadline)) {
        case OffRunQueue::proven: break;
        case OffRunQueue::unnamed: return Round::fails;
        case OffRunQueue::unsure: return Round::unsure;
    }
    auto before = threads.run_count(tid);
    // No schedstat (or one that counts nothing: the thread has run): nothing could
    // vouch for a watch.
    if (!before || before->times_run == 0) return Round::fails;
    auto watch = SchedInWatch::arm(tid);
    if (!watch) return Round::fails;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const bool quiet = watch->untouched();
    auto after = threads.run_count(tid);
    // Put on a CPU meanwhile after all (a signal, say): this round tells nothing.
    if (!after || *after != *before) return Round::unsure;
    if (!quiet) return Round::fails;  // rewritten with no sched-in
    if (!waiter.wake()) return Round::fails;
    auto ran = [&] {
        auto now = threads.run_count(tid);
        return now && now->times_run != before->times_run;
    };
    if (!wait_until(ran, deadline)) return Round::unsure;  // not run yet: too busy a host to tell
    // The kernel counts a sched-in a moment before it rewrites the page: one just
    // counted may not be seen yet. One never seen is a sched-in the watch missed.
    const auto seen_by = std::max(deadline, Clock::now() + std::chrono::milliseconds(100));
    return wait_until([&] { return !watch->untouched(); }, seen_by) ? Round::holds : Round::fails;
}

}  // namespace

// A thread of this process that waits on a pipe: a watch on it must stay untouched
// while it waits, and see each wake-up. Whether it waits, and whether it was put on
// a CPU, is read from /proc, not guessed from pauses, so that a busy host does not
// make the answer wrong; a round the host made unclear is tried again.
bool try_sched_in_watches() {
    PipeWaiter waiter;
    if (waiter.tid() == 0) return false;  // no thread to try it on: run counts it is
    DescriptorBudget budget(2);  // its own: the trial takes nothing from the sessions'
    ThreadActivityReader threads(::getpid(), budget, ThreadStateSource::stat_line);  // asleep by its letter, named or not
    // Unclear rounds are tried again for up to 3 s in all: a host that keeps the
    // thread from running longer than that gets run counts read, not watches.
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    constexpr int rounds_wanted = 2;
    int held = 0;
    while (held < rounds_wanted && Clock::now() < deadline) {
        auto result = try_one_round(threads, waiter, deadline);
        if (result == Round::fails) break;
        if (result == Round::holds) ++held;
    }
    return held == rounds_wanted;
}

bool sched_in_watches_work() {
    static const bool works = try_sched_in_watches();
    return works;
}

SchedInWatchSet::~SchedInWatchSet() {
    while (!watches_.empty()) disarm(watches_.begin()->first);
    if (epoll_ >= 0) ::close(epoll_);
}

bool SchedInWatchSet::arm(std::uint64_t key, pid_t tid) {
    disarm(key);
    if (watches_.size() >= max_sched_in_watches || !sched_in_watches_work()) return false;
    if (epoll_ < 0) {
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) return false;
    }
    if (!budget_.try_take()) return false;
    auto watch = SchedInWatch::arm(tid);
    epoll_event event{};
    event.events = 0;  // a hang-up is reported whatever is asked for
    event.data.u64 = key;
    if (!watch || ::epoll_ctl(epoll_, EPOLL_CTL_ADD, watch->fd(), &event) != 0) {
        budget_.give_back();
        return false;
    }
    watches_.emplace(key, std::move(*watch));
    return true;
}

bool SchedInWatchSet::untouched(std::uint64_t key) const {
    auto it = watches_.find(key);
    return it != watches_.end() && it->second.untouched();
}

void SchedInWatchSet::disarm(std::uint64_t key) {
    // Closing the event's only descriptor takes it out of the epoll set too.
    if (watches_.erase(key) > 0) budget_.give_back();
}

void SchedInWatchSet::drop_exited() {
    if (epoll_ < 0 || watches_.empty()) return;
    epoll_event events[64];
    int n;
    do {
        n = ::epoll_wait(epoll_, events, 64, 0);
        // Disarmed (closed) before asking again, so that no hang-up is reported twice.
        for (int i = 0; i < n; ++i) disarm(events[i].data.u64);
    } while (n == 64);
}

}  // namespace pyprofd::sampler
