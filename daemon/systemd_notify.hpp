#pragma once
// The sd_notify protocol, without libsystemd: under a Type=notify unit, systemd
// passes $NOTIFY_SOCKET, a unix datagram socket (a leading '@' means the abstract
// namespace), and the daemon sends it "READY=1" once it serves, "STOPPING=1" when
// it begins to shut down, and "WATCHDOG=1" at least every $WATCHDOG_USEC when the
// unit sets WatchdogSec. Outside systemd every call does nothing.
#include <chrono>
#include <optional>
#include <string_view>

namespace pyprofd::daemon {

// Sends one message; false when there is no socket to send to or it failed.
bool notify_systemd(std::string_view message);

// The interval at which to send WATCHDOG=1 (half of $WATCHDOG_USEC), when systemd
// asks for it and $WATCHDOG_PID, if set, names this process.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace pyprofd::daemon
