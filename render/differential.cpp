#include "render/differential.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <unordered_map>

namespace pyprofd::render {

std::vector<std::uint64_t> totals_at_same_paths(const Profile& shape, const Profile& baseline) {
    std::vector<std::uint64_t> totals(shape.node_count(), 0);
    totals[Profile::root] = baseline.total_samples();
    // The two profiles intern labels separately: children are matched by label.
    struct Pair {
        NodeId shape_node, baseline_node;
    };
    std::vector<Pair> work{{Profile::root, Profile::root}};
    std::unordered_map<std::string_view, NodeId> baseline_children;
    while (!work.empty()) {
        auto [s, b] = work.back();
        work.pop_back();
        if (baseline.children(b).empty()) continue;
        baseline_children.clear();
        for (NodeId c : baseline.children(b)) baseline_children.emplace(baseline.label(baseline.node(c).frame), c);
        for (NodeId c : shape.children(s)) {
            auto it = baseline_children.find(shape.label(shape.node(c).frame));
            if (it == baseline_children.end()) continue;
            totals[c] = baseline.node(it->second).total;
            work.push_back({c, it->second});
        }
    }
    return totals;
}

double share_change(std::uint64_t before, std::uint64_t before_total, std::uint64_t after, std::uint64_t after_total) {
    double b = before_total ? static_cast<double>(before) / static_cast<double>(before_total) : 0;
    double a = after_total ? static_cast<double>(after) / static_cast<double>(after_total) : 0;
    return a - b;
}

Rgb change_color(double change, double largest_change) {
    double strength = largest_change > 0 ? std::clamp(std::abs(change) / largest_change, 0.0, 1.0) : 0;
    auto fade = static_cast<std::uint8_t>(std::lround(255 - 200 * strength));
    if (change > 0) return {255, fade, fade};
    if (change < 0) return {fade, fade, 255};
    return {255, 255, 255};
}

namespace {

// Each form of a difference: its name (--format), the file ending that tells it, and
// its content type over HTTP.
struct DiffFormatRow {
    DiffFormat format;
    const char* name;
    std::string_view ending;
    const char* content_type;
};
constexpr std::array diff_formats{
    DiffFormatRow{DiffFormat::svg, "svg", ".svg", "image/svg+xml"},
    DiffFormatRow{DiffFormat::text, "text", ".txt", "text/plain; charset=utf-8"},
    DiffFormatRow{DiffFormat::json, "json", ".json", "application/json"},
};

const DiffFormatRow& row_of(DiffFormat format) {
    for (const auto& row : diff_formats)
        if (row.format == format) return row;
    return diff_formats.front();
}

}  // namespace

const char* to_string(DiffFormat format) { return row_of(format).name; }
const char* content_type(DiffFormat format) { return row_of(format).content_type; }

std::optional<DiffFormat> diff_format_named(std::string_view name) {
    for (const auto& row : diff_formats)
        if (name == row.name) return row.format;
    return std::nullopt;
}

std::optional<DiffFormat> diff_format_for_path(std::string_view path) {
    for (const auto& row : diff_formats)
        if (path.ends_with(row.ending)) return row.format;
    return std::nullopt;
}

void write_difference(const Profile& before, const ProfileSources& before_sources, const Profile& after,
                      const ProfileSources& after_sources, const DiffOutput& output, std::ostream& out) {
    auto matched = match_profiles(before, before_sources, after, after_sources);
    if (output.format == DiffFormat::svg) {
        auto graph = output.graph;
        graph.baseline = &matched.before;
        graph.frame_origins = &matched.after_origin;
        write_flame_graph(matched.after, graph, out);
        return;
    }
    auto table = diff_table(matched, output.sort, output.before_name, output.after_name);
    if (output.format == DiffFormat::json)
        write_diff_json(table, out, output.top);
    else
        write_diff_text(table, out, output.top);
}

std::vector<std::string> python_versions_of(const ProfileSources& sources) {
    std::vector<std::string> versions;
    for (const auto& s : sources)
        if (!s.python_version.empty() && std::find(versions.begin(), versions.end(), s.python_version) == versions.end())
            versions.push_back(s.python_version);
    return versions;
}

}  // namespace pyprofd::render
