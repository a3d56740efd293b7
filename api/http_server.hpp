#pragma once
// The HTTP/1.1 server: Boost.Beast over TCP and unix sockets. Each connection
// has one place where its limits are set, as in Beast's advanced server example:
// a time limit for each request to arrive, a header size limit and a body size
// limit; a request beyond them gets its 4xx and the connection is closed. Each
// connection's peer is identified once, when it is accepted (peer_identity.hpp).
// Every request is handed to one handler function and logged in one access line
// that names its caller (at most 200 a second: a flood of requests cannot fill a
// disk with the log). A handler may answer later (DeferredResponse): the
// connection then waits without an io thread, watching for the client to go away
// meanwhile, which cancels the work.
//
// The connections open at once are capped (max_connections): past the cap the
// listeners stop accepting, and clients wait in the kernel's backlog until one
// closes. An accept that fails (out of descriptors, say) is tried again after a
// growing pause, and said at most once every 10 s.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/deferred_response.hpp"
#include "api/http_types.hpp"
#include "api/peer_identity.hpp"
#include "api/request_metrics.hpp"
#include "config/daemon_config.hpp"

namespace pyprofd::api {

struct ServerLimits {
    // Unix socket files are mode 0666: every caller is identified (SO_PEERCRED) and
    // authorized per request, as on the loopback port anyone can reach. With a
    // group, 0660 and that group: only its members may connect at all.
    std::optional<std::string> unix_socket_group;
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::chrono::seconds request_timeout{30};
    std::size_t max_connections = 512;
};

// What a handler says of a request besides its response.
struct RequestNotes {
    std::string caller;  // whom it acted for, in words, for the access log ("" none)
    std::string route;   // the route template that took it, for the metrics ("" none)
    // Set: the response comes from this work, later; the one returned is not sent.
    std::optional<DeferredResponse> later;
};

class HttpServer {
public:
    // A request, and who sent it as the kernel says.
    using Handler = std::function<Response(const Request&, const PeerIdentity& peer, RequestNotes& notes)>;
    // Every response sent, also those that never reached the handler.
    using ResponseObserver = std::function<void(const AnsweredRequest&)>;

    HttpServer(boost::asio::io_context& io, Handler handler, ServerLimits limits, ResponseObserver observe = {});
    ~HttpServer();

    // Binds and starts accepting on an address; the error says which and why.
    std::expected<void, std::string> listen(const config::ListenAddress& address);
    // What is listened on, with the ports the system chose for port 0.
    std::vector<std::string> bound_addresses() const;
    // Stops accepting; connections in progress finish their request.
    void stop_accepting();

    struct Listener;  // one per address; defined with the connections
    struct Context;   // what every listener and connection shares

private:
    boost::asio::io_context& io_;
    std::shared_ptr<Context> context_;
    std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace pyprofd::api
