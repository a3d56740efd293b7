#include "api/graph_query.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace pyprofd::api {
namespace {

std::unexpected<daemon::Error> bad(std::string name, std::string message) {
    return std::unexpected(daemon::Error{daemon::Error::Kind::invalid, std::move(message), std::move(name)});
}

// minwidth: pixels (0.1) or a percentage of all samples (0.5%).
bool set_min_width(std::string_view value, render::FlameGraphOptions& graph) {
    bool percent = value.ends_with('%');
    auto number = percent ? value.substr(0, value.size() - 1) : value;
    double v = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), v);
    if (ec != std::errc{} || end != number.data() + number.size() || number.empty() || !std::isfinite(v) || v < 0 ||
        (percent && v > 100))
        return false;
    if (percent)
        graph.min_width_percent = v;
    else
        graph.min_width_px = v;
    return true;
}

}  // namespace

daemon::Result<render::FlameGraphOptions> graph_options(const Target& target, render::FlameGraphOptions graph) {
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
            if (!set_min_width(value, graph))
                return bad(name, fmt::format("minwidth is pixels (0.1) or a percentage (0.5%), not '{}'", value));
        } else if (name == "inverted") {
            if (value != "" && value != "true" && value != "1" && value != "false" && value != "0")
                return bad(name, fmt::format("inverted is true or false, not '{}'", value));
            graph.inverted = value != "false" && value != "0";
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

}  // namespace pyprofd::api
