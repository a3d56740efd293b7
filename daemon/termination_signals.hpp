#pragma once
// Ctrl-C (SIGINT), SIGTERM and SIGHUP (or the signals given) turned into a stop request: the signals are
// blocked in every thread and taken by one waiting thread, so no code runs in a
// signal handler and every thread sees the request through a stop_token.
//
// Construct it before starting any other thread (threads inherit the mask).
// Programs pyprofd launches get a clean mask back before exec.
#include <atomic>
#include <stop_token>
#include <initializer_list>
#include <thread>

namespace pyprofd::daemon {

class TerminationSignals {
public:
    // Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed).
    TerminationSignals();
    // Only these signals; the others keep what they do.
    explicit TerminationSignals(std::initializer_list<int> signals);
    ~TerminationSignals();
    TerminationSignals(const TerminationSignals&) = delete;
    TerminationSignals& operator=(const TerminationSignals&) = delete;

    std::stop_token stop_token() const { return stop_.get_token(); }
    // The signal that asked to stop, 0 if none came.
    int received() const { return received_.load(); }
    // How many came so far: a later one asks to give up what follows the stop
    // (such as waiting for a FIFO's reader).
    int count() const { return count_.load(); }

private:
    std::stop_source stop_;
    std::atomic<int> received_{0};
    std::atomic<int> count_{0};
    std::jthread waiter_;
};

}  // namespace pyprofd::daemon
