#pragma once
// What a handler is given: the request, its path's parameters (already checked)
// and query, the caller it acts for, and what it may call.
#include <optional>

#include "api/deferred_response.hpp"
#include "api/http_types.hpp"
#include "api/path_parameters.hpp"
#include "api/query_string.hpp"
#include "api/request_metrics.hpp"
#include "daemon/caller.hpp"
#include "daemon/session_manager.hpp"

namespace pyprofd::api {

struct Call {
    const Request& request;
    const Target& target;  // the path and the query's parameters
    const PathParameters& path;
    const daemon::Caller& caller;
    daemon::SessionManager& sessions;
    const RequestMetrics& requests;  // for /metrics
    // A handler whose response takes a while sets this and returns any response
    // (it is not sent): the server waits for the work without an io thread.
    std::optional<DeferredResponse>& later;
};

}  // namespace pyprofd::api
