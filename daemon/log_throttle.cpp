#include "daemon/log_throttle.hpp"

namespace pyprofd::daemon {

std::optional<std::uint64_t> LogThrottle::allow() {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    if (now - window_start_ >= interval_) {
        window_start_ = now;
        in_window_ = 0;
    }
    if (in_window_ >= lines_) {
        ++held_back_;
        return std::nullopt;
    }
    ++in_window_;
    auto held = held_back_;
    held_back_ = 0;
    return held;
}

}  // namespace pyprofd::daemon
