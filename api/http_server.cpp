#include "api/http_server.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cerrno>
#include <deque>
#include <mutex>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <spdlog/spdlog.h>

#include "api/problem.hpp"
#include "daemon/log_throttle.hpp"

namespace pyprofd::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

// The connections open at once, and the listeners waiting for one to close.
class ConnectionBudget {
public:
    explicit ConnectionBudget(std::size_t max) : max_(max) {}

    // A slot now; or false, and `resume` is called once one is given back.
    bool take_or_wait(std::function<void()> resume) {
        std::lock_guard lock(mutex_);
        if (open_ < max_) {
            ++open_;
            return true;
        }
        waiting_.push_back(std::move(resume));
        return false;
    }

    void give_back() {
        std::function<void()> resume;
        {
            std::lock_guard lock(mutex_);
            --open_;
            if (!waiting_.empty()) {
                resume = std::move(waiting_.front());
                waiting_.pop_front();
            }
        }
        if (resume) resume();
    }

private:
    std::mutex mutex_;
    const std::size_t max_;
    std::size_t open_ = 0;
    std::deque<std::function<void()>> waiting_;
};

struct HttpServer::Context {
    Handler handler;
    ServerLimits limits;
    ResponseObserver observe;
    ConnectionBudget connections{limits.max_connections};
    daemon::LogThrottle access_log{200, std::chrono::seconds(1)};
};

namespace {

// A connection's place in the budget, given back when the connection ends.
class ConnectionSlot {
public:
    explicit ConnectionSlot(std::shared_ptr<HttpServer::Context> context) : context_(std::move(context)) {}
    ConnectionSlot(ConnectionSlot&& other) noexcept = default;
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;
    ~ConnectionSlot() {
        if (context_) context_->connections.give_back();
    }

private:
    std::shared_ptr<HttpServer::Context> context_;
};

template <typename Protocol>
class Connection : public std::enable_shared_from_this<Connection<Protocol>> {
public:
    using Socket = typename Protocol::socket;
    Connection(Socket socket, std::shared_ptr<HttpServer::Context> context, ConnectionSlot slot, PeerIdentity peer)
        : stream_(std::move(socket)), context_(std::move(context)), limits_(context_->limits), slot_(std::move(slot)),
          peer_(std::move(peer)) {}

    void start() {
        asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Connection::read, this->shared_from_this()));
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
        parser_->body_limit(limits_.max_body_bytes);
        stream_.expires_after(limits_.request_timeout);
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Connection::on_read, this->shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
            ec == asio::error::eof)
            return close();
        if (ec) {
            // The request cannot be read: say why, then close (the rest of it is unread).
            Response response;
            if (ec == http::error::body_limit)
                response = problem(http::status::payload_too_large, "Request body too large",
                                   fmt::format("the body may be at most {} bytes (limits.max_request_body_bytes)",
                                               limits_.max_body_bytes));
            else if (ec == http::error::header_limit)
                response = problem(http::status::request_header_fields_too_large, "Request header too large",
                                   fmt::format("the header may be at most {} bytes", limits_.max_header_bytes));
            else
                response = problem(http::status::bad_request, "Malformed HTTP request", ec.message());
            response.keep_alive(false);
            response.prepare_payload();
            started_ = std::chrono::steady_clock::now();
            method_ = target_ = "-";
            route_.clear();
            caller_.clear();
            return send(std::move(response), true);
        }
        auto request = parser_->release();
        method_ = std::string(request.method_string());
        target_ = std::string(request.target());
        started_ = std::chrono::steady_clock::now();
        RequestNotes notes;
        Response response = context_->handler(request, peer_, notes);
        caller_ = std::move(notes.caller);
        route_ = std::move(notes.route);
        if (notes.later) return wait_for(std::move(*notes.later));
        bool close_after = !response.keep_alive();
        send(std::move(response), close_after);
    }

    // The response comes later. Meanwhile no io thread waits: the work runs on timers
    // of this connection's strand, and the socket is read for the client going away
    // (a client that ends the wait gets no profile, and the work is told to give up).
    // Bytes that arrive instead (a pipelined request) are kept for the next read.
    void wait_for(DeferredResponse later) {
        later_ = std::move(later);
        stream_.expires_never();  // the wait is the work's to bound, not the request timeout's
        watching_ = true;
        stream_.async_read_some(buffer_.prepare(4096),
                                beast::bind_front_handler(&Connection::on_watch, this->shared_from_this()));
        // Taken out first: the work may be done with (later_ reset) before start returns.
        auto start = std::move(later_->start);
        start(stream_.get_executor(),
              [self = this->shared_from_this()](Response response) { self->on_later(std::move(response)); });
    }

    void on_watch(beast::error_code ec, std::size_t bytes) {
        watching_ = false;
        if (!ec) {
            buffer_.commit(bytes);  // the client is there; stop watching, keep what it sent
        } else if (ec != asio::error::operation_aborted && !ready_) {
            // Gone (end of stream, reset): nobody is left to answer.
            client_gone_ = true;
            spdlog::info("access {} {} \"{} {}\": the client went away before the response", peer_.address,
                         caller_.empty() ? "-" : caller_, method_, target_.substr(0, 300));
            if (later_) {
                auto cancel = std::move(later_->cancel);
                later_.reset();
                if (cancel) cancel();
            }
            return close();
        }
        if (ready_) send_ready();
    }

    void on_later(Response response) {
        later_.reset();  // the work is done with; nothing holds it past here
        if (client_gone_) return;
        ready_ = std::move(response);
        // A read still watching is cancelled first: a read must not be left pending
        // when the next request's read starts. Its end sends the response.
        if (watching_) return stream_.cancel();
        send_ready();
    }

    void send_ready() {
        auto response = std::move(*ready_);
        ready_.reset();
        bool close_after = !response.keep_alive();
        send(std::move(response), close_after);
    }

    void send(Response response, bool close_after) {
        auto status = response.result_int();
        auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        if (context_->observe)
            context_->observe(AnsweredRequest{.status = status, .method = method_, .route = route_, .seconds = elapsed});
        if (auto held_back = context_->access_log.allow()) {
            if (*held_back)
                spdlog::info("access: {} requests were not logged (more than 200 a second)", *held_back);
            spdlog::info("access {} {} \"{} {}\" {} {} {:.1f}ms", peer_.address, caller_.empty() ? "-" : caller_, method_,
                         target_.substr(0, 300), status, response.body().size(), elapsed * 1000);
        }
        response_ = std::make_shared<Response>(std::move(response));
        stream_.expires_after(limits_.request_timeout);
        http::async_write(stream_, *response_,
                          [self = this->shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                              self->response_.reset();
                              if (ec || close_after) return self->close();
                              self->read();
                          });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(Socket::shutdown_send, ec);
    }

    beast::basic_stream<Protocol> stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::shared_ptr<Response> response_;
    std::shared_ptr<HttpServer::Context> context_;
    const ServerLimits& limits_;
    ConnectionSlot slot_;
    PeerIdentity peer_;
    // The request being answered: for the access log and the metrics.
    std::string method_, target_, route_;
    std::string caller_;  // whom it is answered for
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    // A deferred response's wait (wait_for): the work, whether the socket is being
    // watched, the response once it came, and whether the client left first.
    std::optional<DeferredResponse> later_;
    bool watching_ = false;
    std::optional<Response> ready_;
    bool client_gone_ = false;
};

template <typename Protocol>
PeerIdentity identify_peer(typename Protocol::socket& socket) {
    if constexpr (std::is_same_v<Protocol, tcp>)
        return identify_tcp_peer(socket.native_handle());
    else
        return identify_unix_peer(socket.native_handle());
}

}  // namespace

struct HttpServer::Listener : std::enable_shared_from_this<Listener> {
    virtual ~Listener() = default;
    virtual void stop() = 0;
    virtual std::string address() const = 0;
};

namespace {

template <typename Protocol>
struct ListenerOf : HttpServer::Listener {
    ListenerOf(asio::io_context& io, std::shared_ptr<HttpServer::Context> context)
        : io_(io), acceptor_(io), backoff_timer_(io), context_(std::move(context)) {}

    void accept() {
        if (!acceptor_.is_open()) return;
        auto self = std::static_pointer_cast<ListenerOf>(this->shared_from_this());
        // At the cap, wait for a connection to close before taking another.
        if (!context_->connections.take_or_wait([self] { asio::post(self->io_, [self] { self->accept(); }); })) return;
        acceptor_.async_accept(asio::make_strand(io_), [self](beast::error_code ec, typename Protocol::socket socket) {
            if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) {
                self->context_->connections.give_back();
                return;
            }
            if (ec) {
                self->context_->connections.give_back();
                return self->back_off(ec);
            }
            self->backoff_ = {};
            auto peer = identify_peer<Protocol>(socket);
            std::make_shared<Connection<Protocol>>(std::move(socket), self->context_, ConnectionSlot(self->context_),
                                                   std::move(peer))
                ->start();
            self->accept();
        });
    }

    // An accept failed (out of descriptors, say): the condition may last, so
    // accepting again waits a growing while, and it is said once in a while.
    void back_off(const beast::error_code& ec) {
        using namespace std::chrono_literals;
        backoff_ = std::clamp<std::chrono::milliseconds>(backoff_ * 2, 10ms, 1000ms);
        if (auto held_back = accept_log_.allow())
            spdlog::warn("accept on {}: {}; accepting again in {} ms{}", address(), ec.message(), backoff_.count(),
                         *held_back ? fmt::format(" ({} more failures since last said)", *held_back) : "");
        backoff_timer_.expires_after(backoff_);
        auto self = std::static_pointer_cast<ListenerOf>(this->shared_from_this());
        backoff_timer_.async_wait([self](const beast::error_code& e) {
            if (!e) self->accept();
        });
    }

    void stop() override {
        beast::error_code ec;
        acceptor_.close(ec);
        backoff_timer_.cancel();
        if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
    }

    std::string address() const override {
        beast::error_code ec;
        auto endpoint = acceptor_.local_endpoint(ec);
        if constexpr (std::is_same_v<Protocol, tcp>) {
            auto a = endpoint.address();
            return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(endpoint.port());
        } else {
            return "unix:" + unix_path_;
        }
    }

    asio::io_context& io_;
    typename Protocol::acceptor acceptor_;
    asio::steady_timer backoff_timer_;
    std::chrono::milliseconds backoff_{0};
    daemon::LogThrottle accept_log_{1, std::chrono::seconds(10)};
    std::shared_ptr<HttpServer::Context> context_;
    std::string unix_path_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Handler handler, ServerLimits limits, ResponseObserver observe)
    : io_(io), context_(std::make_shared<Context>(std::move(handler), limits, std::move(observe))) {}

HttpServer::~HttpServer() { stop_accepting(); }

std::expected<void, std::string> HttpServer::listen(const config::ListenAddress& address) {
    beast::error_code ec;
    auto fail = [&](const char* what) {
        return std::unexpected(fmt::format("cannot listen on {}: {} failed: {}", address.to_string(), what, ec.message()));
    };
    if (address.kind == config::ListenAddress::Kind::tcp) {
        tcp::resolver resolver(io_);
        auto results = resolver.resolve(address.host, std::to_string(address.port), tcp::resolver::passive, ec);
        if (ec) return fail("resolving the host");
        auto endpoint = results.begin()->endpoint();
        auto listener = std::make_shared<ListenerOf<tcp>>(io_, context_);
        auto& a = listener->acceptor_;
        a.open(endpoint.protocol(), ec);
        if (ec) return fail("socket");
        a.set_option(asio::socket_base::reuse_address(true), ec);
        a.bind(endpoint, ec);
        if (ec) return fail("bind");
        a.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return fail("listen");
        listener->accept();
        listeners_.push_back(listener);
    } else {
        // A socket file left by a daemon that died is in the way; a live one is not ours to take.
        struct stat st {};
        if (::stat(address.path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                return std::unexpected(fmt::format("cannot listen on {}: the path exists and is not a socket",
                                                   address.to_string()));
            local::socket probe(io_);
            probe.connect(local::endpoint(address.path), ec);
            if (!ec)
                return std::unexpected(fmt::format("cannot listen on {}: another server is listening there",
                                                   address.to_string()));
            ::unlink(address.path.c_str());
        }
        auto listener = std::make_shared<ListenerOf<local>>(io_, context_);
        auto& a = listener->acceptor_;
        a.open(local(), ec);
        if (ec) return fail("socket");
        a.bind(local::endpoint(address.path), ec);
        if (ec) return fail("bind");
        const auto& group = context_->limits.unix_socket_group;
        ::chmod(address.path.c_str(), group ? 0660 : 0666);
        if (group) {
            struct group* g = ::getgrnam(group->c_str());
            if (!g)
                return std::unexpected(fmt::format("cannot listen on {}: no group '{}' (unix_socket_group)",
                                                   address.to_string(), *group));
            if (::chown(address.path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
                return std::unexpected(fmt::format("cannot give {} to group {}: {}", address.path,
                                                   *group, std::strerror(errno)));
        }
        a.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) return fail("listen");
        listener->unix_path_ = address.path;
        listener->accept();
        listeners_.push_back(listener);
    }
    return {};
}

std::vector<std::string> HttpServer::bound_addresses() const {
    std::vector<std::string> out;
    for (const auto& l : listeners_) out.push_back(l->address());
    return out;
}

void HttpServer::stop_accepting() {
    for (const auto& l : listeners_) l->stop();
    listeners_.clear();
}

}  // namespace pyprofd::api
