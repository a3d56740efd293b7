#include "daemon/termination_signals.hpp"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace pyprofd::daemon {
namespace {

sigset_t signal_set(std::initializer_list<int> signals) {
    sigset_t set;
    ::sigemptyset(&set);
    for (int sig : signals) ::sigaddset(&set, sig);
    return set;
}

}  // namespace

TerminationSignals::TerminationSignals() : TerminationSignals({SIGINT, SIGTERM, SIGHUP}) {}

TerminationSignals::TerminationSignals(std::initializer_list<int> signals) {
    auto set = signal_set(signals);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    waiter_ = std::jthread([this, set](std::stop_token own) {
        const timespec poll{0, 100'000'000};  // to notice our own end
        while (!own.stop_requested()) {
            int sig = ::sigtimedwait(&set, nullptr, &poll);
            if (sig <= 0) continue;
            int none = 0;
            received_.compare_exchange_strong(none, sig);
            ++count_;
            stop_.request_stop();
        }
    });
}

TerminationSignals::~TerminationSignals() {
    waiter_.request_stop();
    waiter_.join();
}

}  // namespace pyprofd::daemon
