#include "render/flame_graph.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <optional>
#include <vector>

#include "render/content_hash.hpp"
#include "render/differential.hpp"
#include "render/frame_colors.hpp"
#include "render/xml_text.hpp"

namespace pyprofd::render {
namespace {

// The browser script, from flame_graph_script.js (embedded by CMake).
constexpr std::string_view script =
#include "flame_graph_script.inc"
    ;

constexpr double pad = 10;
// Verdana's average glyph is about 0.59 em wide: enough to decide what fits.
constexpr double char_width_em = 0.59;

struct Placed {
    NodeId node;
    std::uint64_t start;  // samples before it at its depth
    int depth;            // 0: the "all" root
};

// The label as much of it as fits in width pixels, cut at a character boundary.
std::string_view fit_label(std::string_view label, double width, double char_width, bool& cut_short) {
    cut_short = false;
    auto chars = static_cast<long>((width - 6) / char_width);
    if (chars < 3) return {};
    std::size_t count = 0, cut = std::string::npos;
    for (std::size_t i = 0; i < label.size(); ++i) {
        if ((static_cast<unsigned char>(label[i]) & 0xC0) == 0x80) continue;  // inside a UTF-8 sequence
        if (static_cast<long>(count) == chars - 2) cut = i;
        ++count;
    }
    if (static_cast<long>(count) <= chars) return label;
    cut_short = true;
    return label.substr(0, cut);
}

// A non-negative number with a fixed count of decimals, without the general (and
// much slower) floating-point formatting: a graph has hundreds of thousands of them.
void append_fixed(std::string& out, double value, int decimals) {
    const long scale = decimals == 1 ? 10 : 100;
    auto scaled = std::lround(std::max(0.0, value) * static_cast<double>(scale));
    char digits[32];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, scaled / scale);
    out.append(digits, static_cast<std::size_t>(end - digits));
    out.push_back('.');
    long fraction = scaled % scale;
    if (decimals == 2) out.push_back(static_cast<char>('0' + fraction / 10));
    out.push_back(static_cast<char>('0' + fraction % 10));
}

// Labels ranked once, so that ordering children compares numbers, not strings.
std::vector<std::uint32_t> label_ranks(const Profile& profile) {
    std::vector<std::uint32_t> label_rank(profile.frame_count());
    std::vector<FrameId> by_label(profile.frame_count());
    for (FrameId f = 0; f < by_label.size(); ++f) by_label[f] = f;
    std::sort(by_label.begin(), by_label.end(), [&](FrameId a, FrameId b) { return profile.label(a) < profile.label(b); });
    for (std::uint32_t rank = 0; rank < by_label.size(); ++rank) label_rank[by_label[rank]] = rank;
    return label_rank;
}

// Where every frame wide enough to draw goes: depth first, parents before
// children, children in label order, as flamegraph.pl draws them: the same input
// gives the same picture, and two graphs of one program line up.
struct PlacedFrames {
    std::vector<Placed> placed;
    int max_depth = 0;
    std::size_t left_out = 0;  // narrower than the minimum width
};

PlacedFrames place_frames(const Profile& profile, double per_sample, double min_width) {
    PlacedFrames frames;
    const auto label_rank = label_ranks(profile);
    std::vector<Placed> stack{{Profile::root, 0, 0}};
    std::vector<NodeId> children;
    std::vector<Placed> next;  // reused: no allocation per frame
    while (!stack.empty()) {
        auto item = stack.back();
        stack.pop_back();
        frames.placed.push_back(item);
        frames.max_depth = std::max(frames.max_depth, item.depth);
        children.assign(profile.children(item.node).begin(), profile.children(item.node).end());
        std::sort(children.begin(), children.end(), [&](NodeId a, NodeId b) {
            return label_rank[profile.node(a).frame] < label_rank[profile.node(b).frame];
        });
        std::uint64_t start = item.start;
        next.clear();
        for (NodeId child : children) {
            auto samples = profile.node(child).total;
            if (static_cast<double>(samples) * per_sample < min_width) {
                ++frames.left_out;
            } else {
                next.push_back({child, start, item.depth + 1});
            }
            start += samples;
        }
        stack.insert(stack.end(), next.rbegin(), next.rend());
    }
    return frames;
}

// A differential graph compares every drawn frame with the same stack before.
struct Comparison {
    std::vector<std::uint64_t> before;  // by node: the baseline's samples at the same path
    std::uint64_t before_total = 0;
    std::uint64_t after_total = 0;
    double largest_change = 0;  // of a drawn frame's share, either way

    double change_of(const Profile& profile, NodeId n) const {
        return share_change(before[n], before_total, profile.node(n).total, after_total);
    }
};

Comparison compare(const Profile& profile, const Profile& baseline, const std::vector<Placed>& placed) {
    Comparison c;
    c.before_total = baseline.total_samples();
    c.after_total = profile.total_samples();
    c.before = totals_at_same_paths(profile, baseline);
    for (const auto& p : placed)
        if (p.node != Profile::root) c.largest_change = std::max(c.largest_change, std::abs(c.change_of(profile, p.node)));
    return c;
}

// The sizes every part of the graph is drawn with.
struct Geometry {
    double chart_width;
    double char_width;
    std::uint64_t total;
    double per_sample;  // pixels
    double min_width;   // pixels
    double frame_height = 0;
    double header = 0;
    double footer = 0;
    double height = 0;

    Geometry(const Profile& profile, const FlameGraphOptions& options)
        : chart_width(std::max(10.0, options.width - 2 * pad)),
          char_width(options.font_size * char_width_em),
          total(profile.total_samples()),
          per_sample(total ? chart_width / static_cast<double>(total) : 0),
          min_width(options.min_width_percent ? chart_width * *options.min_width_percent / 100.0 : options.min_width_px) {}

    void fit_depth(const FlameGraphOptions& options, int max_depth) {
        frame_height = options.frame_height;
        header = options.font_size * 3 + (options.subtitle.empty() ? 0 : options.font_size * 1.5) +
                 (options.baseline ? options.font_size * 1.8 : 0);
        footer = options.font_size * 2.5;
        height = header + (max_depth + 1) * frame_height + footer;
    }
    double y_of(const FlameGraphOptions& options, int depth) const {
        return options.inverted ? header + depth * frame_height : height - footer - (depth + 1) * frame_height;
    }
};

// The graph's inline styles, each written by what follows and allowed by hash
// (flame_graph_style_sources): the style sheet, and two style attributes. The sheet
// is written with the font XML-escaped, and hashed as the browser reads it back:
// with the font as it is.
std::string style_text(const FlameGraphOptions& options, std::string_view font) {
    return fmt::format(R"css(
text {{ font-family: {font}; font-size: {fs}px; fill: rgb(0,0,0); }}
#title {{ text-anchor: middle; font-size: {tfs}px; }}
#subtitle {{ text-anchor: middle; fill: rgb(90,90,90); }}
#frames > g {{ cursor: pointer; }}
#frames > g:hover > rect {{ stroke: rgb(0,0,0); stroke-width: 0.5; }}
#frames text {{ pointer-events: none; }}
.button {{ cursor: pointer; fill: rgb(50,50,160); }}
.button:hover {{ text-decoration: underline; }}
.hide {{ display: none; }}
.ancestor {{ opacity: 0.5; }}
)css",
                       fmt::arg("font", font), fmt::arg("fs", options.font_size),
                       fmt::arg("tfs", options.font_size * 1.4));
}
constexpr std::string_view legend_caption_style = "text-anchor: end";
constexpr std::string_view left_out_style = "fill: rgb(120,120,120)";

// A differential graph's key to its colours: the strongest is the largest change of
// a drawn frame's share, so the scale says how many points that is.
void append_change_legend(std::string& svg, const FlameGraphOptions& options, const Comparison& comparison) {
    const double y = options.font_size * (options.subtitle.empty() ? 3.6 : 5.1);
    const double box = options.font_size * 3;
    const double largest = 100 * comparison.largest_change;
    constexpr std::array steps{-1.0, -0.5, 0.0, 0.5, 1.0};
    const double width = box * static_cast<double>(steps.size());
    const double left = options.width / 2.0 - width / 2.0;
    fmt::format_to(std::back_inserter(svg), R"svg(<g id="legend"><text x="{:.1f}" y="{:.1f}" style="{}">change of share, after minus before: −{:.2f} points</text>
)svg",
                   left - 4, y + options.font_size * 0.9, legend_caption_style, largest);
    for (std::size_t i = 0; i < steps.size(); ++i)
        fmt::format_to(std::back_inserter(svg),
                       R"svg(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}" stroke="rgb(160,160,160)" stroke-width="0.5"/>
)svg",
                       left + box * static_cast<double>(i), y, box, options.font_size * 1.1,
                       css_color(change_color(steps[i] * comparison.largest_change, comparison.largest_change)));
    fmt::format_to(std::back_inserter(svg), R"svg(<text x="{:.1f}" y="{:.1f}">+{:.2f} points</text></g>
)svg",
                   left + width + 4, y + options.font_size * 0.9, largest);
}

// The document up to the frames: its size and data for the script, style, script,
// title, subtitle, buttons, and how many frames were left out.
void append_header(std::string& svg, const FlameGraphOptions& options, const Geometry& g,
                   const std::optional<Comparison>& comparison, std::size_t frames_left_out) {
    fmt::format_to(std::back_inserter(svg),
                   R"svg(<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h:.0f}" viewBox="0 0 {w} {h:.0f}" data-search="{search}" data-total="{total}" data-pad="{pad}" data-chart-width="{cw:.3f}" data-char-width="{chw:.3f}" data-unit="{unit}"{baseline}>
<style type="text/css">{style}</style>
<script type="text/ecmascript"><![CDATA[{script}]]></script>
<rect x="0" y="0" width="100%" height="100%" fill="rgb(250,250,250)"/>
)svg",
                   fmt::arg("w", options.width), fmt::arg("h", g.height), fmt::arg("total", g.total),
                   fmt::arg("pad", pad), fmt::arg("cw", g.chart_width), fmt::arg("chw", g.char_width),
                   fmt::arg("unit", xml_escaped(options.unit)), fmt::arg("style", style_text(options, xml_escaped(options.font))),
                   fmt::arg("script", script), fmt::arg("search", xml_escaped(options.search)),
                   fmt::arg("baseline",
                            comparison ? fmt::format(" data-baseline-total=\"{}\"", comparison->before_total) : ""));
    fmt::format_to(std::back_inserter(svg), R"svg(<text id="title" x="{}" y="{:.1f}">{}</text>
)svg",
                   options.width / 2.0, options.font_size * 2, xml_escaped(options.title));
    if (!options.subtitle.empty())
        fmt::format_to(std::back_inserter(svg), R"svg(<text id="subtitle" x="{}" y="{:.1f}">{}</text>
)svg",
                       options.width / 2.0, options.font_size * 3.5, xml_escaped(options.subtitle));
    if (comparison) append_change_legend(svg, options, *comparison);
    fmt::format_to(std::back_inserter(svg),
                   R"svg(<text id="unzoom" class="button hide" x="{pad}" y="{y:.1f}">Reset Zoom</text>
<text id="search" class="button" x="{sx}" y="{y:.1f}">Search</text>
<text id="reset-search" class="button hide" x="{rx}" y="{y:.1f}">Reset Search</text>
<text id="details" x="{pad}" y="{fy:.1f}"> </text>
<text id="matched" x="{mx}" y="{fy:.1f}"> </text>
)svg",
                   fmt::arg("pad", pad), fmt::arg("y", options.font_size * 2),
                   fmt::arg("sx", options.width - pad - 12 * g.char_width),
                   fmt::arg("rx", options.width - pad - 26 * g.char_width),
                   fmt::arg("fy", g.height - options.font_size * 0.8),
                   fmt::arg("mx", options.width - pad - 16 * g.char_width));
    if (frames_left_out > 0)
        fmt::format_to(std::back_inserter(svg),
                       R"svg(<text id="left-out" x="{}" y="{:.1f}" style="{}">{} frames narrower than {:.2g} px left out</text>
)svg",
                       options.width / 2.0, g.height - options.font_size * 0.8, left_out_style, frames_left_out,
                       g.min_width);
}

// Writes one frame after another: a box with its label and tooltip. Names are
// escaped and coloured once per frame label, not once per box.
class FrameWriter {
public:
    FrameWriter(const Profile& profile, const FlameGraphOptions& options, const Geometry& geometry,
                const std::optional<Comparison>& comparison)
        : profile_(profile), options_(options), g_(geometry), comparison_(comparison),
          unit_(xml_escaped(options.unit)), escaped_(profile.frame_count()), colors_(profile.frame_count()) {}

    void append(std::string& svg, const Placed& p) {
        const auto& node = profile_.node(p.node);
        static const std::string root_label = "all", root_fill = "rgb(200,200,200)";
        const bool is_root = p.node == Profile::root;
        const std::string& label = is_root ? root_label : profile_.label(node.frame);
        if (!is_root && escaped_[node.frame].empty()) {
            escaped_[node.frame] = xml_escaped(label);
            colors_[node.frame] = css_color(frame_color(label));
        }
        const std::string& name_escaped = is_root ? root_label : escaped_[node.frame];
        const std::string& fill = is_root ? root_fill : colors_[node.frame];
        const auto total = g_.total;
        std::string change_fill, comparison;
        if (comparison_) {
            const auto& before = comparison_->before;
            const auto before_total = comparison_->before_total;
            double change = comparison_->change_of(profile_, p.node);
            if (!is_root) change_fill = css_color(change_color(change, comparison_->largest_change));
            comparison = fmt::format(
                "\nbefore {} ({:.2f}%), after {} ({:.2f}%): {:+.2f} points", before[p.node],
                before_total ? 100.0 * static_cast<double>(before[p.node]) / static_cast<double>(before_total) : 0.0,
                node.total, total ? 100.0 * static_cast<double>(node.total) / static_cast<double>(total) : 0.0,
                100.0 * change);
        }
        const double fh = g_.frame_height;
        double x = pad + static_cast<double>(p.start) * g_.per_sample;
        double w = static_cast<double>(node.total) * g_.per_sample;
        double y = g_.y_of(options_, p.depth);
        fmt::format_to(std::back_inserter(svg), FMT_COMPILE("<g data-s=\"{}\" data-n=\"{}\" data-d=\"{}\""), p.start,
                       node.total, p.depth);
        if (comparison_)
            fmt::format_to(std::back_inserter(svg), FMT_COMPILE(" data-b=\"{}\""), comparison_->before[p.node]);
        fmt::format_to(std::back_inserter(svg), FMT_COMPILE("><title>{}\n{} {} ("), name_escaped, node.total, unit_);
        append_fixed(svg, total ? 100.0 * static_cast<double>(node.total) / static_cast<double>(total) : 0.0, 2);
        svg += "%)";
        svg += comparison;
        if (!is_root && options_.frame_origins && node.frame < options_.frame_origins->size()) {
            const auto& origin = (*options_.frame_origins)[node.frame];
            if (!origin.empty() && origin != label) {
                svg += "\nat ";
                append_xml_escaped(svg, origin);
            }
        }
        svg += "</title><rect x=\"";
        append_fixed(svg, x, 1);
        svg += "\" y=\"";
        append_fixed(svg, y, 1);
        svg += "\" width=\"";
        append_fixed(svg, w, 1);
        svg += "\" height=\"";
        append_fixed(svg, fh - 1, 1);
        svg += "\" fill=\"";
        svg += change_fill.empty() ? fill : change_fill;
        svg += "\" rx=\"2\"/><text x=\"";
        append_fixed(svg, x + 3, 1);
        svg += "\" y=\"";
        append_fixed(svg, y + fh - 1 - (fh - 1 - options_.font_size * 0.75) / 2 - 1, 1);
        svg += "\">";
        bool cut_short = false;
        append_xml_escaped(svg, fit_label(label, w, g_.char_width, cut_short));
        if (cut_short) svg += "..";
        svg += "</text></g>\n";
    }

private:
    const Profile& profile_;
    const FlameGraphOptions& options_;
    const Geometry& g_;
    const std::optional<Comparison>& comparison_;
    const std::string unit_;
    std::vector<std::string> escaped_;
    std::vector<std::string> colors_;
};

}  // namespace

std::string_view flame_graph_script_source() {
    static const std::string source = [] {
        constexpr std::string_view hex =
#include "flame_graph_script_sha256.inc"
            ;
        std::string bytes;
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
        return "'sha256-" + base64(bytes) + "'";
    }();
    return source;
}

std::vector<std::string> flame_graph_style_sources(const FlameGraphOptions& options) {
    return {csp_hash_source(style_text(options, options.font)), "'unsafe-hashes'", csp_hash_source(legend_caption_style),
            csp_hash_source(left_out_style)};
}

FlameGraphSummary write_flame_graph(const Profile& profile, const FlameGraphOptions& options, std::ostream& out) {
    Geometry geometry(profile, options);
    auto frames = place_frames(profile, geometry.per_sample, geometry.min_width);
    geometry.fit_depth(options, frames.max_depth);
    std::optional<Comparison> comparison;
    if (options.baseline) comparison = compare(profile, *options.baseline, frames.placed);

    // Built in a string and handed on in pieces: formatting into a string is fast,
    // and a piece at a time keeps a large graph from being held whole.
    constexpr std::size_t piece = 256 * 1024;
    std::string svg;
    svg.reserve(piece + 16384);
    append_header(svg, options, geometry, comparison, frames.left_out);
    FrameWriter writer(profile, options, geometry, comparison);
    svg += "<g id=\"frames\">\n";
    for (const auto& p : frames.placed) {
        writer.append(svg, p);
        if (svg.size() >= piece) {
            out << svg;
            svg.clear();
        }
    }
    svg += "</g>\n";
    svg += "</svg>\n";
    out << svg;
    return {.frames_drawn = frames.placed.size(), .frames_left_out = frames.left_out};
}

}  // namespace pyprofd::render
