#include "api/routes.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/error_response.hpp"
#include "api/index_page.hpp"
#include "api/problem.hpp"
#include "api/query_string.hpp"
#include "api/session_request.hpp"
#include "daemon/profile_output.hpp"
#include "daemon/session_json.hpp"
#include "daemon/session_output.hpp"
#include "daemon/session_store.hpp"
#include "daemon/stack_dump.hpp"
#include "render/output_format.hpp"
#include "render/thread_roots.hpp"
#include "sampler/python_process.hpp"

namespace pyprofd::api {
namespace {

// openapi.yaml, embedded at build time: the contract is served by what follows it.
constexpr std::string_view openapi_text =
#include "openapi_yaml.inc"
    ;

Response with_body(http::status status, std::string content_type, std::string body) {
    Response response{status, 11};
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
    return response;
}

Response json_response(http::status status, const nlohmann::json& body) {
    return with_body(status, "application/json",
                     body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Response method_not_allowed(const char* allow) {
    auto r = problem(http::status::method_not_allowed, "Method not allowed", fmt::format("this resource takes {}", allow));
    r.set(http::field::allow, allow);
    return r;
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
    }
    return parts;
}

std::optional<long long> whole_number(std::string_view text) {
    long long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

// The graph options a query may set: ?title=&width=&minwidth=&inverted=&search=
std::expected<render::FlameGraphOptions, Response> graph_options(const Target& target, render::FlameGraphOptions graph) {
    auto bad = [](std::string name, std::string message) {
        return std::unexpected(problem(http::status::bad_request, "Invalid query parameter", message, name));
    };
    for (const auto& [name, value] : target.query) {
        if (name == "title") {
            graph.title = value;
        } else if (name == "subtitle") {
            graph.subtitle = value;
        } else if (name == "search") {
            graph.search = value;
        } else if (name == "width") {
            auto n = whole_number(value);
            if (!n || *n < 100 || *n > 100000) return bad(name, fmt::format("width is pixels from 100 to 100000, not '{}'", value));
            graph.width = static_cast<int>(*n);
        } else if (name == "minwidth") {
            bool percent = value.ends_with('%');
            std::string_view number = percent ? std::string_view(value).substr(0, value.size() - 1) : std::string_view(value);
            double v = 0;
            auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
            if (ec != std::errc{} || end != number.data() + number.size() || number.empty() || !std::isfinite(v) || v < 0 ||
                (percent && v > 100))
                return bad(name, fmt::format("minwidth is pixels (0.1) or a percentage (0.5%), not '{}'", value));
            if (percent)
                graph.min_width_percent = v;
            else
                graph.min_width_px = v;
        } else if (name == "inverted") {
            if (value == "" || value == "true" || value == "1")
                graph.inverted = true;
            else if (value == "false" || value == "0")
                graph.inverted = false;
            else
                return bad(name, fmt::format("inverted is true or false, not '{}'", value));
        } else if (name == "s" || name == "z") {
            // The graph's own view state, kept in the URL by its script.
        } else {
            return bad(name, fmt::format("unknown query parameter '{}'; the graph takes title, subtitle, width, "
                                         "minwidth, inverted and search",
                                         name));
        }
    }
    return graph;
}

}  // namespace

void Routes::count_response(unsigned status) {
    std::lock_guard lock(counts_mutex_);
    ++responses_by_status_[status];
}

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

Response Routes::handle(const Request& request, const PeerIdentity& peer, std::string& caller_label) {
    Response response;
    try {
        if (auto refused = guard_.refuse(request, peer)) {
            if (peer.uid) caller_label = fmt::format("uid {} (browser?)", *peer.uid);
            response = std::move(*refused);
        } else if (request.target() == "/healthz") {
            response = route(request, daemon::Caller{});  // asks nothing of anyone
        } else if (auto caller = identify(request, peer); !caller) {
            response = std::move(caller.error());
        } else {
            caller_label = caller->describe();
            response = route(request, *caller);
        }
    } catch (const std::exception& e) {
        response = problem(http::status::internal_server_error, "Internal error", e.what());
    }
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    response.set(http::field::server, "pyprofd");
    response.set(http::field::cache_control, "no-store");
    add_document_headers(response);
    if (request.method() == http::verb::head) {
        auto size = response.body().size();
        response.body().clear();
        response.content_length(size);
    } else {
        response.prepare_payload();
    }
    return response;
}

Response Routes::route(const Request& request, const daemon::Caller& caller) {
    auto target = parse_target(request.target());
    if (!target) return problem(http::status::bad_request, "Bad request target", target.error());
    auto parts = split_path(target->path);
    auto method = request.method();
    const bool get = method == http::verb::get || method == http::verb::head;

    if (parts.empty()) {
        if (!get) return method_not_allowed("GET");
        return with_body(http::status::ok, "text/html; charset=utf-8", index_page(sessions_.list(caller).sessions));
    }
    if (parts.size() == 1 && parts[0] == "healthz") {
        if (!get) return method_not_allowed("GET");
        return json_response(http::status::ok, {{"status", "ok"}});
    }
    if (parts.size() == 1 && parts[0] == "metrics") {
        if (!get) return method_not_allowed("GET");
        return metrics();
    }
    if (parts.size() == 1 && parts[0] == "openapi.yaml") {
        if (!get) return method_not_allowed("GET");
        return with_body(http::status::ok, "application/yaml", std::string(openapi_text));
    }
    if (parts.size() == 3 && parts[0] == "processes" && parts[2] == "stacks") {
        if (!get) return method_not_allowed("GET");
        auto pid = whole_number(parts[1]);
        if (!pid || *pid < 1 || *pid > INT_MAX)
            return problem(http::status::bad_request, "Invalid path", fmt::format("'{}' is not a process id", parts[1]), "pid");
        auto stacks = sessions_.process_stacks(static_cast<pid_t>(*pid), caller);
        if (!stacks) return error_response(stacks.error());
        return json_response(http::status::ok, daemon::format_dump_json(stacks->process, stacks->sample));
    }
    if (parts[0] != "sessions") return problem(http::status::not_found, "Not found", fmt::format("no resource {}", target->path));

    if (parts.size() == 1) {
        if (method == http::verb::post) {
            // JSON, whatever the client labelled it as: curl -d sends form-urlencoded.
            // A body that says it is something else entirely is refused.
            auto type = std::string(request[http::field::content_type]);
            auto media = type.substr(0, type.find(';'));
            while (!media.empty() && media.back() == ' ') media.pop_back();
            for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (!media.empty() && media != "application/json" && media != "application/x-www-form-urlencoded" &&
                media != "text/plain")
                return problem(http::status::unsupported_media_type, "Unsupported media type",
                               fmt::format("the body must be JSON (Content-Type: application/json), not {}", media));
            auto spec = parse_session_request(request.body());
            if (!spec) return error_response(spec.error(), RequestPart::body);
            auto started = sessions_.start(std::move(*spec), caller);
            if (!started) return error_response(started.error());
            auto response = json_response(http::status::created, daemon::session_to_json(*started));
            response.set(http::field::location, "/sessions/" + started->id);
            return response;
        }
        if (!get) return method_not_allowed("GET, POST");
        daemon::SessionFilter filter{.limit = 50};
        for (const auto& [name, value] : target->query) {
            if (name == "state") {
                filter.state = daemon::session_state_named(value);
                if (!filter.state)
                    return problem(http::status::bad_request, "Invalid query parameter",
                                   fmt::format("state is one of running, completed, stopped, target_exited, failed, "
                                               "interrupted, not '{}'",
                                               value),
                                   "state");
            } else if (name == "limit") {
                auto n = whole_number(value);
                if (!n || *n < 1 || *n > 1000)
                    return problem(http::status::bad_request, "Invalid query parameter",
                                   fmt::format("limit is from 1 to 1000, not '{}'", value), "limit");
                filter.limit = static_cast<std::size_t>(*n);
            } else if (name == "offset") {
                auto n = whole_number(value);
                if (!n || *n < 0)
                    return problem(http::status::bad_request, "Invalid query parameter",
                                   fmt::format("offset is 0 or more, not '{}'", value), "offset");
                filter.offset = static_cast<std::size_t>(*n);
            } else {
                return problem(http::status::bad_request, "Invalid query parameter",
                               fmt::format("unknown query parameter '{}'; the list takes state, limit and offset", name), name);
            }
        }
        auto page = sessions_.list(caller, filter);
        nlohmann::json list = nlohmann::json::array();
        for (const auto& info : page.sessions) list.push_back(daemon::session_to_json(info));
        return json_response(http::status::ok,
                             {{"sessions", list}, {"total", page.total}, {"limit", *filter.limit}, {"offset", filter.offset}});
    }

    std::string id(parts[1]);
    if (!daemon::is_session_id(id))
        return problem(http::status::not_found, "Not found", fmt::format("no session '{}' (ids are 16 hex digits)", id));

    if (parts.size() == 2) {
        if (method == http::verb::delete_) {
            auto removed = sessions_.remove(id, caller);
            if (!removed) return error_response(removed.error());
            return Response{http::status::no_content, 11};
        }
        if (!get) return method_not_allowed("GET, DELETE");
        auto info = sessions_.get(id, caller);
        if (!info) return error_response(info.error());
        return json_response(http::status::ok, daemon::session_to_json(*info));
    }
    if (parts.size() == 3 && parts[2] == "stop") {
        if (method != http::verb::post) return method_not_allowed("POST");
        auto stopped = sessions_.stop(id, caller);
        if (!stopped) return error_response(stopped.error());
        // Still ending (a slow target): it finishes in the background.
        return json_response(stopped->state == daemon::SessionState::running ? http::status::accepted : http::status::ok,
                             daemon::session_to_json(*stopped));
    }
    if (parts.size() == 3 && parts[2] == "output") {
        if (!get) return method_not_allowed("GET");
        auto output = sessions_.output(id, caller);
        if (!output) return error_response(output.error());
        return with_body(http::status::ok, "text/plain; charset=utf-8", std::move(*output));
    }
    if (parts.size() == 4 && parts[2] == "diff" && parts[3].ends_with(".svg")) {
        if (!get) return method_not_allowed("GET");
        std::string other(parts[3].substr(0, parts[3].size() - 4));
        if (!daemon::is_session_id(other))
            return problem(http::status::not_found, "Not found", fmt::format("no session '{}' (ids are 16 hex digits)", other));
        auto before = sessions_.profile(id, caller);
        if (!before) return error_response(before.error());
        auto after = sessions_.profile(other, caller);
        if (!after) return error_response(after.error());
        auto details = daemon::difference_details(before->first, after->first);
        auto graph = graph_options(*target, details.flame_graph);
        if (!graph) return graph.error();
        details.flame_graph = *graph;
        auto body = daemon::difference_graph(*before->second, *after->second, details);
        if (!body) return error_response(body.error());
        return with_body(http::status::ok, "image/svg+xml", std::move(*body));
    }
    if (parts.size() == 3) {
        if (auto format = render::output_format_at_url(parts[2])) {
            const auto& row = render::output_format_row(*format);
            if (!get) return method_not_allowed("GET");
            auto profile = sessions_.profile(id, caller);
            if (!profile) return error_response(profile.error());
            const auto& [info, samples] = *profile;
            auto details = daemon::session_output_details(info);
            if (row.draws_graph) {
                auto graph = graph_options(*target, details.flame_graph);
                if (!graph) return graph.error();
                details.flame_graph = *graph;
            }
            auto body = daemon::session_profile_as(*format, info, *samples, details);
            if (!body) return error_response(body.error());
            auto response = with_body(http::status::ok, std::string(row.content_type), std::move(*body));
            if (row.attachment)
                response.set(http::field::content_disposition,
                             "attachment; filename=\"" + id + std::string(row.file_extension) + "\"");
            return response;
        }
    }
    return problem(http::status::not_found, "Not found", fmt::format("no resource {}", target->path));
}

Response Routes::metrics() const {
    auto counts = sessions_.counts();
    std::ostringstream out;
    out << "# HELP pyprofd_sessions Sessions known to the daemon, by state.\n# TYPE pyprofd_sessions gauge\n";
    for (auto s : {daemon::SessionState::running, daemon::SessionState::completed, daemon::SessionState::stopped,
                   daemon::SessionState::target_exited, daemon::SessionState::failed, daemon::SessionState::interrupted})
        out << "pyprofd_sessions{state=\"" << daemon::to_string(s) << "\"} "
            << (counts.by_state.contains(s) ? counts.by_state.at(s) : 0) << "\n";
    out << "# HELP pyprofd_samples Samples taken by the sessions the daemon knows.\n# TYPE pyprofd_samples gauge\n"
        << "pyprofd_samples " << counts.samples << "\n";
    out << "# HELP pyprofd_sample_errors Failed samples and unreadable thread stacks of those sessions.\n"
        << "# TYPE pyprofd_sample_errors gauge\npyprofd_sample_errors " << counts.errors << "\n";
    out << "# HELP pyprofd_max_lag_seconds The latest a sample started, over those sessions.\n"
        << "# TYPE pyprofd_max_lag_seconds gauge\npyprofd_max_lag_seconds " << counts.max_lag_ms / 1000 << "\n";
    out << "# HELP pyprofd_http_responses_total HTTP responses by status code.\n# TYPE pyprofd_http_responses_total counter\n";
    {
        std::lock_guard lock(counts_mutex_);
        for (const auto& [status, n] : responses_by_status_)
            out << "pyprofd_http_responses_total{code=\"" << status << "\"} " << n << "\n";
    }
    return with_body(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", out.str());
}

}  // namespace pyprofd::api
