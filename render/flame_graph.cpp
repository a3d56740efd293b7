#include "render/flame_graph.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <vector>

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

}  // namespace

std::string_view flame_graph_script_source() {
    static const std::string source = [] {
        constexpr std::string_view hex =
#include "flame_graph_script_sha256.inc"
            ;
        constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string bytes;
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
        std::string base64;
        for (std::size_t i = 0; i < bytes.size(); i += 3) {
            std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
            if (i + 1 < bytes.size()) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
            if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
            base64 += alphabet[(group >> 18) & 63];
            base64 += alphabet[(group >> 12) & 63];
            base64 += i + 1 < bytes.size() ? alphabet[(group >> 6) & 63] : '=';
            base64 += i + 2 < bytes.size() ? alphabet[group & 63] : '=';
        }
        return "'sha256-" + base64 + "'";
    }();
    return source;
}

FlameGraphSummary write_flame_graph(const Profile& profile, const FlameGraphOptions& options, std::ostream& out) {
    FlameGraphSummary summary;
    const double chart_width = std::max(10.0, options.width - 2 * pad);
    const double char_width = options.font_size * char_width_em;
    const auto total = profile.total_samples();
    const double per_sample = total ? chart_width / static_cast<double>(total) : 0;
    const double min_width = options.min_width_percent ? chart_width * *options.min_width_percent / 100.0
                                                       : options.min_width_px;

    // Children in label order, as flamegraph.pl draws them: the same input gives the
    // same picture, and two graphs of one program line up.
    // Labels ranked once, so that ordering children compares numbers, not strings.
    std::vector<std::uint32_t> label_rank(profile.frame_count());
    {
        std::vector<FrameId> by_label(profile.frame_count());
        for (FrameId f = 0; f < by_label.size(); ++f) by_label[f] = f;
        std::sort(by_label.begin(), by_label.end(),
                  [&](FrameId a, FrameId b) { return profile.label(a) < profile.label(b); });
        for (std::uint32_t rank = 0; rank < by_label.size(); ++rank) label_rank[by_label[rank]] = rank;
    }
    std::vector<Placed> placed;
    std::vector<Placed> stack{{Profile::root, 0, 0}};
    int max_depth = 0;
    std::vector<NodeId> children;
    std::vector<Placed> next;  // reused: no allocation per frame
    while (!stack.empty()) {
        auto item = stack.back();
        stack.pop_back();
        placed.push_back(item);
        max_depth = std::max(max_depth, item.depth);
        children.assign(profile.children(item.node).begin(), profile.children(item.node).end());
        std::sort(children.begin(), children.end(), [&](NodeId a, NodeId b) {
            return label_rank[profile.node(a).frame] < label_rank[profile.node(b).frame];
        });
        std::uint64_t start = item.start;
        next.clear();
        for (NodeId child : children) {
            auto samples = profile.node(child).total;
            if (static_cast<double>(samples) * per_sample < min_width) {
                ++summary.frames_left_out;
            } else {
                next.push_back({child, start, item.depth + 1});
            }
            start += samples;
        }
        stack.insert(stack.end(), next.rbegin(), next.rend());
    }
    summary.frames_drawn = placed.size();

    // A differential graph compares every drawn frame with the same stack before.
    std::vector<std::uint64_t> before;
    const std::uint64_t before_total = options.baseline ? options.baseline->total_samples() : 0;
    double largest_change = 0;
    auto change_of = [&](NodeId n) { return share_change(before[n], before_total, profile.node(n).total, total); };
    if (options.baseline) {
        before = totals_at_same_paths(profile, *options.baseline);
        for (const auto& p : placed)
            if (p.node != Profile::root) largest_change = std::max(largest_change, std::abs(change_of(p.node)));
    }

    const double fh = options.frame_height;
    const double header = options.font_size * 3 + (options.subtitle.empty() ? 0 : options.font_size * 1.5);
    const double footer = options.font_size * 2.5;
    const double height = header + (max_depth + 1) * fh + footer;
    auto y_of = [&](int depth) {
        return options.inverted ? header + depth * fh : height - footer - (depth + 1) * fh;
    };

    // Built in a string and handed on in pieces: formatting into a string is fast,
    // and a piece at a time keeps a large graph from being held whole.
    constexpr std::size_t piece = 256 * 1024;
    std::string svg;
    svg.reserve(piece + 16384);
    fmt::format_to(std::back_inserter(svg),
                   R"svg(<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h:.0f}" viewBox="0 0 {w} {h:.0f}" data-search="{search}" data-total="{total}" data-pad="{pad}" data-chart-width="{cw:.3f}" data-char-width="{chw:.3f}" data-unit="{unit}"{baseline}>
<style type="text/css">
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
</style>
<script type="text/ecmascript"><![CDATA[{script}]]></script>
<rect x="0" y="0" width="100%" height="100%" fill="rgb(250,250,250)"/>
)svg",
                   fmt::arg("w", options.width), fmt::arg("h", height), fmt::arg("total", total),
                   fmt::arg("pad", pad), fmt::arg("cw", chart_width), fmt::arg("chw", char_width),
                   fmt::arg("unit", xml_escaped(options.unit)), fmt::arg("font", xml_escaped(options.font)),
                   fmt::arg("fs", options.font_size), fmt::arg("tfs", options.font_size * 1.4),
                   fmt::arg("script", script), fmt::arg("search", xml_escaped(options.search)),
                   fmt::arg("baseline", options.baseline ? fmt::format(" data-baseline-total=\"{}\"", before_total) : ""));
    fmt::format_to(std::back_inserter(svg), R"svg(<text id="title" x="{}" y="{:.1f}">{}</text>
)svg",
                   options.width / 2.0, options.font_size * 2, xml_escaped(options.title));
    if (!options.subtitle.empty())
        fmt::format_to(std::back_inserter(svg), R"svg(<text id="subtitle" x="{}" y="{:.1f}">{}</text>
)svg",
                       options.width / 2.0, options.font_size * 3.5, xml_escaped(options.subtitle));
    fmt::format_to(std::back_inserter(svg),
                   R"svg(<text id="unzoom" class="button hide" x="{pad}" y="{y:.1f}">Reset Zoom</text>
<text id="search" class="button" x="{sx}" y="{y:.1f}">Search</text>
<text id="reset-search" class="button hide" x="{rx}" y="{y:.1f}">Reset Search</text>
<text id="details" x="{pad}" y="{fy:.1f}"> </text>
<text id="matched" x="{mx}" y="{fy:.1f}"> </text>
)svg",
                   fmt::arg("pad", pad), fmt::arg("y", options.font_size * 2),
                   fmt::arg("sx", options.width - pad - 12 * char_width),
                   fmt::arg("rx", options.width - pad - 26 * char_width),
                   fmt::arg("fy", height - options.font_size * 0.8),
                   fmt::arg("mx", options.width - pad - 16 * char_width));
    if (summary.frames_left_out > 0)
        fmt::format_to(std::back_inserter(svg),
                       R"svg(<text id="left-out" x="{}" y="{:.1f}" style="fill: rgb(120,120,120)">{} frames narrower than {:.2g} px left out</text>
)svg",
                       options.width / 2.0, height - options.font_size * 0.8, summary.frames_left_out, min_width);

    // Names are escaped and coloured once per frame label, not once per box.
    const std::string unit = xml_escaped(options.unit);
    std::vector<std::string> escaped(profile.frame_count());
    std::vector<std::string> colors(profile.frame_count());
    svg += "<g id=\"frames\">\n";
    for (const auto& p : placed) {
        const auto& node = profile.node(p.node);
        static const std::string root_label = "all", root_fill = "rgb(200,200,200)";
        const bool is_root = p.node == Profile::root;
        const std::string& label = is_root ? root_label : profile.label(node.frame);
        if (!is_root && escaped[node.frame].empty()) {
            escaped[node.frame] = xml_escaped(label);
            colors[node.frame] = css_color(frame_color(label));
        }
        const std::string& name_escaped = is_root ? root_label : escaped[node.frame];
        const std::string& fill = is_root ? root_fill : colors[node.frame];
        std::string change_fill, comparison;
        if (options.baseline) {
            double change = change_of(p.node);
            if (!is_root) change_fill = css_color(change_color(change, largest_change));
            comparison = fmt::format(
                "\nbefore {} ({:.2f}%), after {} ({:.2f}%): {:+.2f} points", before[p.node],
                before_total ? 100.0 * static_cast<double>(before[p.node]) / static_cast<double>(before_total) : 0.0,
                node.total, total ? 100.0 * static_cast<double>(node.total) / static_cast<double>(total) : 0.0,
                100.0 * change);
        }
        double x = pad + static_cast<double>(p.start) * per_sample;
        double w = static_cast<double>(node.total) * per_sample;
        double y = y_of(p.depth);
        fmt::format_to(std::back_inserter(svg), FMT_COMPILE("<g data-s=\"{}\" data-n=\"{}\" data-d=\"{}\""), p.start,
                       node.total, p.depth);
        if (options.baseline) fmt::format_to(std::back_inserter(svg), FMT_COMPILE(" data-b=\"{}\""), before[p.node]);
        fmt::format_to(std::back_inserter(svg), FMT_COMPILE("><title>{}\n{} {} ("), name_escaped, node.total, unit);
        append_fixed(svg, total ? 100.0 * static_cast<double>(node.total) / static_cast<double>(total) : 0.0, 2);
        svg += "%)";
        svg += comparison;
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
        append_fixed(svg, y + fh - 1 - (fh - 1 - options.font_size * 0.75) / 2 - 1, 1);
        svg += "\">";
        bool cut_short = false;
        append_xml_escaped(svg, fit_label(label, w, char_width, cut_short));
        if (cut_short) svg += "..";
        svg += "</text></g>\n";
        if (svg.size() >= piece) {
            out << svg;
            svg.clear();
        }
    }
    svg += "</g>\n";
    svg += "</svg>\n";
    out << svg;
    return summary;
}

}  // namespace pyprofd::render
