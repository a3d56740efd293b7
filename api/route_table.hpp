#pragma once
// How a request finds its handler: routes, each a method and a path template
// (literal segments and {name} parameters, which may end in a literal, as in
// /sessions/{id}/diff/{other}.svg), and the lookup that picks the route for a
// request's method and path and reads the path's parameters once.
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "api/http_types.hpp"

namespace pyprofd::api {

struct Call;  // api/call.hpp: what a handler is given
using Handler = std::function<Response(const Call&)>;

struct Route {
    http::verb method;  // a GET route answers HEAD too
    std::string path;   // the template, as openapi.yaml writes it
    Handler handler;
};

struct RouteMatch {
    const Route* route = nullptr;                  // none: no route for this method and path
    std::map<std::string, std::string> parameters;  // the path's text for each {name}
    // No route, but the path names a resource: the methods it takes ("GET, DELETE"),
    // for a 405's Allow. Empty: no such resource at all (404).
    std::string allow;
};

// The path's segments, empty ones (of "//" or a trailing "/") left out.
std::vector<std::string_view> path_segments(std::string_view path);

RouteMatch match_route(std::span<const Route> routes, http::verb method, std::string_view path);

}  // namespace pyprofd::api
