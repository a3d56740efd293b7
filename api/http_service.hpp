#pragma once
// The HTTP server with what it runs on: an io context and the threads that run
// it. `pyprofd serve` starts it and lets it end once the daemon has ended its
// sessions: until then the threads run, so requests that come meanwhile still get
// answers. Handlers may wait (attaching to a process, stopping a session): several
// threads keep the others answering.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "api/http_server.hpp"

namespace pyprofd::api {

class HttpService {
public:
    HttpService(HttpServer::Handler handler, ServerLimits limits, HttpServer::ResponseObserver observe = {});
    HttpService(const HttpService&) = delete;
    HttpService& operator=(const HttpService&) = delete;
    ~HttpService();

    // As HttpServer's.
    std::expected<void, std::string> listen(const config::ListenAddress& address);
    std::vector<std::string> bound_addresses() const;

    // Calls task on the io threads now and every interval after, so that a server
    // whose threads stop answering stops calling it (systemd's watchdog).
    void every(std::chrono::microseconds interval, std::function<void()> task);

    // Runs the io threads until finish(); returns once they have all ended.
    void run(int threads);
    // From a thread other than the io threads: the listeners close; returns once
    // they have.
    void stop_accepting();
    // From any thread: the io threads end (run() returns).
    void finish();

private:
    void repeat();

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    HttpServer server_;
    boost::asio::steady_timer timer_;
    std::chrono::microseconds interval_{0};
    std::function<void()> task_;
};

}  // namespace pyprofd::api
