#pragma once
// Log lines that a condition can repeat without end (an accept that keeps failing,
// a flood of requests) are said at most `lines` times per interval; the first one
// let through after a quiet spell says how many were held back. No condition, and
// no caller, can fill a disk with pyprofd's log.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace pyprofd::daemon {

class LogThrottle {
public:
    using Clock = std::chrono::steady_clock;
    LogThrottle(std::uint64_t lines, Clock::duration interval) : lines_(lines), interval_(interval) {}

    // Whether to log this one; if so, how many were held back before it (0 if none).
    std::optional<std::uint64_t> allow();

private:
    std::mutex mutex_;
    const std::uint64_t lines_;
    const Clock::duration interval_;
    Clock::time_point window_start_{};
    std::uint64_t in_window_ = 0;
    std::uint64_t held_back_ = 0;
};

}  // namespace pyprofd::daemon
