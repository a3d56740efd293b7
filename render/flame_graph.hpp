#pragma once
// The interactive flame graph: one self-contained SVG (its script and style
// inside, nothing fetched) in the manner of flamegraph.pl, drawn from a Profile.
// Frames are boxes as wide as their samples, the root at the bottom (or at the
// top, "inverted", an icicle graph); hover tells, click zooms, Ctrl-F searches.
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "render/profile.hpp"

namespace pyprofd::render {

struct FlameGraphOptions {
    std::string title = "Flame Graph";
    std::string subtitle;                    // e.g. target, Python version, rate, duration
    int width = 1200;                        // pixels
    int frame_height = 16;
    double font_size = 12;
    std::string font = "Verdana, sans-serif";
    double min_width_px = 0.1;               // narrower frames are left out (and counted)
    std::optional<double> min_width_percent; // instead of pixels, a share of all samples
    bool inverted = false;                   // icicle: root at the top
    std::string search;                      // highlighted on load (the URL's ?s= wins)
    std::string unit = "samples";
    // Set: a differential graph. Frames keep this profile's widths (after) and are
    // coloured by the change of their share from the baseline (before).
    const Profile* baseline = nullptr;
    // Set: by FrameId, a longer form of each frame's label that its tooltip adds on a
    // line of its own ("at ..."); a differential graph names frames by what both runs
    // agree on (frame_matching.hpp) and tells here the full path and line they stand for.
    const std::vector<std::string>* frame_origins = nullptr;
};

struct FlameGraphSummary {
    std::size_t frames_drawn = 0;
    std::size_t frames_left_out = 0;  // narrower than the minimum width (with what they call)
};

FlameGraphSummary write_flame_graph(const Profile& profile, const FlameGraphOptions& options, std::ostream& out);

// The graph's script as a Content-Security-Policy source ('sha256-BASE64'): a
// server that sends the graph can let exactly that script run, and nothing else.
std::string_view flame_graph_script_source();

// The graph's inline styles (its style sheet, and the style attributes of a
// differential graph's legend and of the note of frames left out) as CSP sources:
// the hash of each, with 'unsafe-hashes', which lets hashed attributes apply. For a
// page that shows the graph from a blob: URL, where the page's own policy applies
// to the graph.
std::vector<std::string> flame_graph_style_sources(const FlameGraphOptions& options);

}  // namespace pyprofd::render
