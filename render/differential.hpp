#pragma once
// Differential flame graphs: the shape of one profile (after), each frame coloured
// by how its share of all samples changed from another (before), in the manner of
// flamegraph.pl's difffolded. Shares, not counts: two runs of different lengths
// or rates compare fairly.
//
// The frames of the two profiles are matched on what both runs agree they are
// (frame_matching.hpp), so a run under Python 2 compares with one under Python 3;
// write_difference() draws the graph, or the table of diff_table.hpp.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include "render/diff_table.hpp"
#include "render/flame_graph.hpp"
#include "render/frame_colors.hpp"
#include "render/profile.hpp"
#include "render/profile_sources.hpp"

namespace pyprofd::render {

// For every node of `shape`, the total samples of the node at the same path of
// frame labels in `baseline`; 0 where baseline has no such stack.
std::vector<std::uint64_t> totals_at_same_paths(const Profile& shape, const Profile& baseline);

// A frame's share of its profile's samples, after minus before: +0.1 is 10 points more.
double share_change(std::uint64_t before, std::uint64_t before_total, std::uint64_t after, std::uint64_t after_total);

// Red for a share that grew, blue for one that shrank, white for no change; the
// strongest colour for the largest change in the graph (largest_change > 0).
Rgb change_color(double change, double largest_change);

// The forms a difference takes: a graph, or the table as text or JSON.
enum class DiffFormat { svg, text, json };
const char* to_string(DiffFormat format);
std::optional<DiffFormat> diff_format_named(std::string_view name);      // svg, text, json
std::optional<DiffFormat> diff_format_for_path(std::string_view path);  // .svg, .txt, .json
const char* content_type(DiffFormat format);

struct DiffOutput {
    DiffFormat format = DiffFormat::svg;
    FlameGraphOptions graph;  // svg; its baseline and frame origins are set here
    DiffSort sort = DiffSort::self;  // text, json
    std::size_t top = all_rows;      // text, json
    DiffProfileName before_name, after_name;
};

// Matches the frames of the two profiles, then writes after against before.
void write_difference(const Profile& before, const ProfileSources& before_sources, const Profile& after,
                      const ProfileSources& after_sources, const DiffOutput& output, std::ostream& out);

// The distinct Python versions the sources name, in their order.
std::vector<std::string> python_versions_of(const ProfileSources& sources);

}  // namespace pyprofd::render
