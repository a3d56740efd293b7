#pragma once
// A response a handler cannot give at once: the pull endpoint (/debug/pprof/profile)
// samples for N seconds before it has its profile. Waiting on an io thread would
// take that thread from every other caller for N seconds (there are four), so the
// handler starts the work and hands it back instead; the server holds the
// connection, and the work answers later from a timer on the connection's executor.
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "api/http_types.hpp"

namespace pyprofd::api {

struct DeferredResponse {
    using Respond = std::function<void(Response)>;
    // Called once, on the connection's executor (a strand): the work runs its timers
    // there and calls respond once, there, with the response.
    std::function<void(boost::asio::any_io_executor executor, Respond respond)> start;
    // Called at most once, on that executor, when the client has gone away before the
    // response: the work gives up (respond need not be called; if it is, it is dropped).
    std::function<void()> cancel;
};

}  // namespace pyprofd::api
