#include "api/session_handlers.hpp"

#include <fmt/format.h>

#include "api/error_response.hpp"
#include "api/problem.hpp"
#include "api/response_body.hpp"
#include "api/session_request.hpp"
#include "daemon/session_json.hpp"

namespace pyprofd::api {
namespace {

// The body's media type, lower case and without parameters ("" when none was sent).
std::string media_type(const Request& request) {
    auto type = std::string(request[http::field::content_type]);
    auto media = type.substr(0, type.find(';'));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return media;
}

daemon::Error bad_query(std::string name, std::string message) {
    return {daemon::Error::Kind::invalid, std::move(message), std::move(name)};
}

// The list's query: ?state=&limit=&offset=, 50 at a time unless it says.
daemon::Result<daemon::SessionFilter> list_filter(const Target& target) {
    daemon::SessionFilter filter{.limit = 50};
    for (const auto& [name, value] : target.query) {
        auto n = whole_number(value);
        if (name == "state") {
            filter.state = daemon::session_state_named(value);
            if (!filter.state)
                return std::unexpected(bad_query(name, fmt::format("state is one of running, completed, stopped, "
                                                                   "target_exited, failed, interrupted, not '{}'",
                                                                   value)));
        } else if (name == "limit") {
            if (!n || *n < 1 || *n > 1000)
                return std::unexpected(bad_query(name, fmt::format("limit is from 1 to 1000, not '{}'", value)));
            filter.limit = static_cast<std::size_t>(*n);
        } else if (name == "offset") {
            if (!n || *n < 0) return std::unexpected(bad_query(name, fmt::format("offset is 0 or more, not '{}'", value)));
            filter.offset = static_cast<std::size_t>(*n);
        } else {
            return std::unexpected(bad_query(
                name, fmt::format("unknown query parameter '{}'; the list takes state, limit and offset", name)));
        }
    }
    return filter;
}

}  // namespace

Response start_session(const Call& call) {
    // JSON, whatever the client labelled it as: curl -d sends form-urlencoded.
    // A body that says it is something else entirely is refused.
    auto media = media_type(call.request);
    if (!media.empty() && media != "application/json" && media != "application/x-www-form-urlencoded" &&
        media != "text/plain")
        return problem(http::status::unsupported_media_type, "Unsupported media type",
                       fmt::format("the body must be JSON (Content-Type: application/json), not {}", media));
    auto spec = parse_session_request(call.request.body());
    if (!spec) return error_response(spec.error(), RequestPart::body);
    auto started = call.sessions.start(std::move(*spec), call.caller);
    if (!started) return error_response(started.error());
    auto response = json_response(http::status::created, daemon::session_to_json(*started));
    response.set(http::field::location, "/sessions/" + started->id);
    return response;
}

Response list_sessions(const Call& call) {
    auto filter = list_filter(call.target);
    if (!filter) return error_response(filter.error(), RequestPart::query);
    auto page = call.sessions.list(call.caller, *filter);
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& info : page.sessions) sessions.push_back(daemon::session_to_json(info));
    return json_response(http::status::ok, {{"sessions", sessions},
                                            {"total", page.total},
                                            {"limit", *filter->limit},
                                            {"offset", filter->offset}});
}

Response get_session(const Call& call) {
    auto info = call.sessions.get(call.path.id, call.caller);
    if (!info) return error_response(info.error());
    return json_response(http::status::ok, daemon::session_to_json(*info));
}

Response delete_session(const Call& call) {
    auto removed = call.sessions.remove(call.path.id, call.caller);
    if (!removed) return error_response(removed.error());
    return Response{http::status::no_content, 11};
}

Response stop_session(const Call& call) {
    auto stopped = call.sessions.stop(call.path.id, call.caller);
    if (!stopped) return error_response(stopped.error());
    // Still ending (a slow target): it finishes in the background.
    return json_response(stopped->state == daemon::SessionState::running ? http::status::accepted : http::status::ok,
                         daemon::session_to_json(*stopped));
}

Response get_session_output(const Call& call) {
    auto output = call.sessions.output(call.path.id, call.caller);
    if (!output) return error_response(output.error());
    return with_body(http::status::ok, "text/plain; charset=utf-8", std::move(*output));
}

}  // namespace pyprofd::api
