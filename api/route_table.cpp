#include "api/route_table.hpp"

#include <algorithm>
#include <optional>

namespace pyprofd::api {
namespace {

// The parameters a template's segments take from the path's, or nullopt when the
// path is not one of the template's.
std::optional<std::map<std::string, std::string>> parameters_of(std::string_view path_template,
                                                                const std::vector<std::string_view>& segments) {
    auto pattern = path_segments(path_template);
    if (pattern.size() != segments.size()) return std::nullopt;
    std::map<std::string, std::string> parameters;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        auto part = pattern[i];
        auto text = segments[i];
        if (!part.starts_with('{')) {
            if (part != text) return std::nullopt;
            continue;
        }
        auto close = part.find('}');
        auto suffix = part.substr(close + 1);
        if (text.size() <= suffix.size() || !text.ends_with(suffix)) return std::nullopt;
        parameters.emplace(part.substr(1, close - 1), text.substr(0, text.size() - suffix.size()));
    }
    return parameters;
}

// The methods a resource takes as Allow lists them, GET first.
std::string allow_header(std::vector<http::verb> methods) {
    std::stable_partition(methods.begin(), methods.end(), [](http::verb m) { return m == http::verb::get; });
    std::string allow;
    for (auto m : methods) allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(m));
    return allow;
}

}  // namespace

std::vector<std::string_view> path_segments(std::string_view path) {
    std::vector<std::string_view> segments;
    while (!path.empty()) {
        auto slash = path.find('/');
        if (slash != 0) segments.push_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    }
    return segments;
}

RouteMatch match_route(std::span<const Route> routes, http::verb method, std::string_view path) {
    auto segments = path_segments(path);
    auto wanted = method == http::verb::head ? http::verb::get : method;
    RouteMatch match;
    std::vector<http::verb> methods;  // of the routes whose template the path fits
    for (const auto& route : routes) {
        auto parameters = parameters_of(route.path, segments);
        if (!parameters) continue;
        methods.push_back(route.method);
        if (route.method == wanted && !match.route) {
            match.route = &route;
            match.parameters = std::move(*parameters);
        }
    }
    if (!match.route) match.allow = allow_header(std::move(methods));
    return match;
}

}  // namespace pyprofd::api
