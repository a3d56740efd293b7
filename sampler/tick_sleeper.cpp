#include "sampler/tick_sleeper.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace pyprofd::sampler {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the futex word is the atomic's own 32 bits");

std::uint32_t* futex_word(std::atomic<std::uint32_t>& word) { return reinterpret_cast<std::uint32_t*>(&word); }

}  // namespace

TickSleeper::TickSleeper(std::stop_token stop) : wake_on_stop_(std::move(stop), WakeOnStop{this}) {}

void TickSleeper::WakeOnStop::operator()() const noexcept {
    sleeper->stopped_.store(1, std::memory_order_release);
    ::syscall(SYS_futex, futex_word(sleeper->stopped_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

bool TickSleeper::sleep_until(Clock::time_point deadline) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    const timespec at{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    for (;;) {
        if (stopped_.load(std::memory_order_acquire) != 0) return false;
        // A deadline passed already (a sampler behind its schedule takes the next tick
        // at once) is not handed to the kernel: a wait that times out on arrival still
        // enters it and arms a timer, and at 10 kHz under load (the seed's
        // run, bench/seed_10khz.py) that cost a tenth more CPU per sample and a tenth
        // of the samples.
        if (Clock::now() >= deadline) return true;
        // Sleeps only while the word is still 0: a stop set after the load above
        // makes the wait return at once (EAGAIN) rather than sleep through it.
        long r = ::syscall(SYS_futex, futex_word(stopped_), FUTEX_WAIT_BITSET_PRIVATE, 0, &at, nullptr,
                           FUTEX_BITSET_MATCH_ANY);
        if (r == -1 && errno == ETIMEDOUT) return stopped_.load(std::memory_order_acquire) == 0;
        // Woken by the stop (0), the word already 1 (EAGAIN), or a signal (EINTR):
        // looked at again; the deadline is absolute, so a resumed wait ends on time.
    }
}

}  // namespace pyprofd::sampler
