#pragma once
// Every endpoint of openapi.yaml: a plain function from request to response that
// translates HTTP into calls on the session manager, and their results into JSON,
// graphs and problem details. Nothing here decides; the manager does.
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/bearer_auth.hpp"
#include "api/http_types.hpp"
#include "daemon/session_manager.hpp"

namespace pyprofd::api {

class Routes {
public:
    // With auth, every request but GET /healthz must carry the bearer token.
    Routes(daemon::SessionManager& sessions, std::optional<BearerAuth> auth)
        : sessions_(sessions), auth_(std::move(auth)) {}

    Response handle(const Request& request);
    // Counted by the server for /metrics, also for requests that never reached handle().
    void count_response(unsigned status);

private:
    Response route(const Request& request);
    Response metrics() const;

    daemon::SessionManager& sessions_;
    std::optional<BearerAuth> auth_;
    mutable std::mutex counts_mutex_;
    std::map<unsigned, std::uint64_t> responses_by_status_;
};

}  // namespace pyprofd::api
