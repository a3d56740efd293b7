#pragma once
// Differential flame graphs: the shape of one profile (after), each frame coloured
// by how its share of all samples changed from another (before), in the manner of
// flamegraph.pl's difffolded. Shares, not counts: two runs of different lengths
// or rates compare fairly.
#include <cstdint>
#include <vector>

#include "render/frame_colors.hpp"
#include "render/profile.hpp"

namespace pyprofd::render {

// For every node of `shape`, the total samples of the node at the same path of
// frame labels in `baseline`; 0 where baseline has no such stack.
std::vector<std::uint64_t> totals_at_same_paths(const Profile& shape, const Profile& baseline);

// A frame's share of its profile's samples, after minus before: +0.1 is 10 points more.
double share_change(std::uint64_t before, std::uint64_t before_total, std::uint64_t after, std::uint64_t after_total);

// Red for a share that grew, blue for one that shrank, white for no change; the
// strongest colour for the largest change in the graph (largest_change > 0).
Rgb change_color(double change, double largest_change);

}  // namespace pyprofd::render
