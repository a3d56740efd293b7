#include "api/http_service.hpp"

#include <sys/prctl.h>

#include <boost/asio/post.hpp>
#include <future>
#include <thread>

namespace pyprofd::api {

HttpService::HttpService(HttpServer::Handler handler, ServerLimits limits, HttpServer::ResponseObserver observe)
    : work_(boost::asio::make_work_guard(io_)),
      server_(io_, std::move(handler), std::move(limits), std::move(observe)),
      timer_(io_) {}

HttpService::~HttpService() = default;

std::expected<void, std::string> HttpService::listen(const config::ListenAddress& address) {
    return server_.listen(address);
}

std::vector<std::string> HttpService::bound_addresses() const { return server_.bound_addresses(); }

void HttpService::every(std::chrono::microseconds interval, std::function<void()> task) {
    interval_ = interval;
    task_ = std::move(task);
    boost::asio::post(io_, [this] { repeat(); });
}

void HttpService::repeat() {
    task_();
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) repeat();
    });
}

void HttpService::run(int threads) {
    std::vector<std::jthread> running;
    for (int i = 0; i < threads; ++i)
        running.emplace_back([this] {
            // Named, as the other threads are, for top -H and for telling what costs what.
            ::prctl(PR_SET_NAME, "pyprofd-http", 0, 0, 0);
            io_.run();
        });
}

void HttpService::stop_accepting() {
    // The listeners belong to the io threads: they are closed there.
    std::promise<void> closed;
    boost::asio::post(io_, [&] {
        server_.stop_accepting();
        closed.set_value();
    });
    closed.get_future().wait();
}

void HttpService::finish() {
    work_.reset();
    io_.stop();
}

}  // namespace pyprofd::api
