#include "daemon/orderly_shutdown.hpp"

#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <spdlog/spdlog.h>
#include <stop_token>

#include "daemon/systemd_notify.hpp"

namespace pyprofd::daemon {

OrderlyShutdown::OrderlyShutdown() = default;

OrderlyShutdown::~OrderlyShutdown() {
    worker_.request_stop();
    join();
}

void OrderlyShutdown::on_signal(Steps steps) {
    worker_ = std::jthread([this, steps = std::move(steps)](std::stop_token own) {
        std::mutex mutex;
        std::condition_variable_any signalled;
        std::stop_callback wake(signals_.stop_token(), [&] {
            std::lock_guard lock(mutex);
            signalled.notify_all();
        });
        {
            std::unique_lock lock(mutex);
            // Until a signal comes, or the daemon ends without one (a failed start).
            if (!signalled.wait(lock, own, [&] { return signals_.stop_token().stop_requested(); })) return;
        }
        spdlog::info("SIG{}: shutting down", ::sigabbrev_np(signals_.received()));
        notify_systemd("STOPPING=1");
        if (steps.stop_accepting) steps.stop_accepting();
        if (steps.end_sessions) steps.end_sessions();
        if (steps.finished) steps.finished();
    });
}

void OrderlyShutdown::join() {
    if (worker_.joinable()) worker_.join();
}

}  // namespace pyprofd::daemon
