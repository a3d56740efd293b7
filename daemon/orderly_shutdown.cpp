#include "daemon/orderly_shutdown.hpp"

#include <signal.h>

#include <spdlog/spdlog.h>
#include <stop_token>

#include "daemon/systemd_notify.hpp"

namespace pyprofd::daemon {

OrderlyShutdown::OrderlyShutdown() = default;

OrderlyShutdown::~OrderlyShutdown() {
    on_stop_.reset();  // waits for a start in progress; none after
    join();
}

void OrderlyShutdown::on_signal(Steps steps) {
    steps_ = std::move(steps);
    // On the signal's thread, or here at once when one came already.
    on_stop_.emplace(signals_.stop_token(), std::function<void()>([this] { worker_ = std::jthread([this] { run_steps(); }); }));
}

void OrderlyShutdown::run_steps() {
    spdlog::info("SIG{}: shutting down", ::sigabbrev_np(signals_.received()));
    notify_systemd("STOPPING=1");
    if (steps_.stop_accepting) steps_.stop_accepting();
    if (steps_.end_sessions) steps_.end_sessions();
    if (steps_.finished) steps_.finished();
}

void OrderlyShutdown::join() {
    if (worker_.joinable()) worker_.join();
}

}  // namespace pyprofd::daemon
