#pragma once
// The daemon's orderly end. SIGTERM (systemd's stop) or SIGINT (Ctrl-C) starts it,
// on a thread of its own, so that requests meanwhile still get answers: systemd is
// told STOPPING=1, the server stops accepting, the running sessions end as
// `stopped` and are saved, and then the server's threads may end. SIGHUP keeps its
// default.
//
// Construct it before any other thread starts: the two signals are blocked in every
// thread and taken by one (termination_signals.hpp). A signal that comes before
// the steps are known is acted on once they are. The thread that runs the steps
// starts with the signal, not before: a daemon under an address-space limit
// (tests/daemon/profile_limits_test.py) has no room for an idle thread's stack
// and malloc arena.
#include <csignal>
#include <functional>
#include <optional>
#include <stop_token>
#include <thread>

#include "daemon/termination_signals.hpp"

namespace pyprofd::daemon {

class OrderlyShutdown {
public:
    struct Steps {
        std::function<void()> stop_accepting;  // the server takes no new connections
        std::function<void()> end_sessions;    // the running sessions end and are saved
        std::function<void()> finished;        // the server's threads may end
    };

    OrderlyShutdown();
    OrderlyShutdown(const OrderlyShutdown&) = delete;
    OrderlyShutdown& operator=(const OrderlyShutdown&) = delete;
    ~OrderlyShutdown();  // without a signal: the steps never run

    // What to do on the signal; once, when the server and the sessions exist.
    void on_signal(Steps steps);
    // Returns once the steps have run (or at once when they never started).
    void join();

private:
    void run_steps();

    TerminationSignals signals_{SIGINT, SIGTERM};
    Steps steps_;
    std::jthread worker_;  // started by the signal
    std::optional<std::stop_callback<std::function<void()>>> on_stop_;  // last: it goes first
};

}  // namespace pyprofd::daemon
