#pragma once
// The way in for every request: the browser guard, who the caller is, then the
// route of operations.hpp for its method and path, whose handler translates it
// into calls on the session manager. Nothing here decides; the manager does.
#include <expected>
#include <string>

#include "api/bearer_auth.hpp"
#include "api/browser_guard.hpp"
#include "api/http_types.hpp"
#include "api/peer_identity.hpp"
#include "api/http_server.hpp"
#include "api/request_metrics.hpp"
#include "daemon/session_manager.hpp"

namespace pyprofd::api {

class Routes {
public:
    // Every request but GET /healthz acts for a caller: the token it carries, or
    // the local user the kernel names; one it cannot tell gets 401.
    Routes(daemon::SessionManager& sessions, BearerTokens tokens, BrowserGuard guard)
        : sessions_(sessions), tokens_(std::move(tokens)), guard_(std::move(guard)) {}

    // notes: whom it was answered for, in words for the access log; the route that
    // took it; the work whose response comes later, if its handler deferred it.
    Response handle(const Request& request, const PeerIdentity& peer, RequestNotes& notes);
    // Counted by the server for /metrics, also for requests that never reached handle().
    void count_response(const AnsweredRequest& answered);

private:
    std::expected<daemon::Caller, Response> identify(const Request& request, const PeerIdentity& peer) const;
    Response route(const Request& request, const daemon::Caller& caller, std::optional<DeferredResponse>& later);

    daemon::SessionManager& sessions_;
    BearerTokens tokens_;
    BrowserGuard guard_;
    RequestMetrics requests_;
};

}  // namespace pyprofd::api
