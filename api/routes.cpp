#include "api/routes.hpp"

#include <fmt/format.h>

#include "api/call.hpp"
#include "api/console_assets.hpp"
#include "api/console_page.hpp"
#include "api/error_response.hpp"
#include "api/operations.hpp"
#include "api/problem.hpp"
#include "api/query_string.hpp"

namespace pyprofd::api {
namespace {

Response method_not_allowed(const std::string& allow) {
    auto r = problem(http::status::method_not_allowed, "Method not allowed", fmt::format("this resource takes {}", allow));
    r.set(http::field::allow, allow);
    return r;
}

}  // namespace

void Routes::count_response(const AnsweredRequest& answered) { requests_.count(answered); }

std::expected<daemon::Caller, Response> Routes::identify(const Request& request, const PeerIdentity& peer) const {
    auto unauthorized = [](std::string detail) {
        auto response = problem(http::status::unauthorized, "Unauthorized", std::move(detail));
        response.set(http::field::www_authenticate, "Bearer realm=\"pyprofd\"");
        return std::unexpected(std::move(response));
    };
    auto presented = tokens_.check(request);
    if (presented.verdict == BearerTokens::Verdict::matched) return sessions_.access().token_caller(*presented.token);
    if (presented.verdict == BearerTokens::Verdict::wrong)
        return unauthorized("the token is not one this daemon knows (access.tokens)");
    if (!peer.loopback)
        return unauthorized(fmt::format("a caller on another host ({}) needs a token: send 'Authorization: Bearer TOKEN' "
                                        "with a token of access.tokens",
                                        peer.address));
    if (!peer.uid)
        return unauthorized(fmt::format("pyprofd cannot tell which user is calling ({}): use the unix socket, or a token",
                                        peer.why_unknown));
    return sessions_.access().local_caller(*peer.uid, peer.gid, peer.pid);
}

namespace {

// The template of the route a request's method and path fit, "" for none: the
// metrics' label, bounded by the route table whatever the path.
std::string route_template(const Request& request) {
    auto target = parse_target(request.target());
    if (!target) return {};
    auto match = match_route(operations(), request.method(), target->path);
    return match.route ? match.route->path : std::string();
}

// What every response carries, sent now or later.
void finish_response(Response& response, unsigned version, bool keep_alive, bool head) {
    response.version(version);
    response.keep_alive(keep_alive);
    response.set(http::field::server, "pyprofd");
    response.set(http::field::cache_control, "no-store");
    add_document_headers(response);
    if (head) {
        auto size = response.body().size();
        response.body().clear();
        response.content_length(size);
    } else {
        response.prepare_payload();
    }
}

}  // namespace

Response Routes::handle(const Request& request, const PeerIdentity& peer, RequestNotes& notes) {
    Response response;
    notes.route = route_template(request);
    try {
        if (auto refused = guard_.refuse(request, peer)) {
            if (peer.uid) notes.caller = fmt::format("uid {} (browser?)", *peer.uid);
            response = std::move(*refused);
        } else if (request.target() == "/healthz" || is_console_asset(request.target())) {
            response = route(request, daemon::Caller{}, notes.later);  // asks nothing of anyone
        } else if (auto caller = identify(request, peer); !caller) {
            // A browser gets the console still, without data, to enter a token in.
            response = opens_console(request) ? console_without_caller(std::move(caller.error()))
                                              : std::move(caller.error());
        } else {
            notes.caller = caller->describe();
            response = route(request, *caller, notes.later);
        }
    } catch (const std::exception& e) {
        notes.later.reset();
        response = problem(http::status::internal_server_error, "Internal error", e.what());
    }
    const auto version = request.version();
    const bool keep_alive = request.keep_alive(), head = request.method() == http::verb::head;
    if (notes.later) {
        // The late response gets what every response gets, when it comes.
        notes.later->start = [start = std::move(notes.later->start), version, keep_alive, head](
                                 boost::asio::any_io_executor executor, DeferredResponse::Respond respond) {
            start(std::move(executor), [respond = std::move(respond), version, keep_alive, head](Response late) {
                finish_response(late, version, keep_alive, head);
                respond(std::move(late));
            });
        };
    }
    finish_response(response, version, keep_alive, head);
    return response;
}

Response Routes::route(const Request& request, const daemon::Caller& caller, std::optional<DeferredResponse>& later) {
    auto target = parse_target(request.target());
    if (!target) return problem(http::status::bad_request, "Bad request target", target.error());
    auto match = match_route(operations(), request.method(), target->path);
    if (!match.route) {
        if (!match.allow.empty()) return method_not_allowed(match.allow);
        return problem(http::status::not_found, "Not found", fmt::format("no resource {}", target->path));
    }
    auto path = path_parameters(match.parameters);
    if (!path) return error_response(path.error(), RequestPart::path);
    return match.route->handler(Call{request, *target, *path, caller, sessions_, requests_, later});
}

}  // namespace pyprofd::api
