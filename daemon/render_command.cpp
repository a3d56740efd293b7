#include "daemon/render_command.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <vector>

#include "daemon/command_arguments.hpp"
#include "render/folded.hpp"

namespace pyprofd::daemon {
std::expected<RenderOptions, std::string> parse_render_arguments(std::span<const std::string_view> args) {
    RenderOptions options;
    std::vector<std::string> inputs;
    bool diff = false;
    auto& graph = options.details.flame_graph;
    ArgumentReader reader(args);
    while (reader.next()) {
        auto name = reader.name();
        auto arg = reader.argument();
        if (name == "--format" || name == "-f") {
            auto v = reader.value();
            if (!v) return std::unexpected(v.error());
            auto format = output_format_option(*v);
            if (!format) return std::unexpected(format.error());
            options.format = *format;
        } else if (name == "--output" || name == "-o") {
            auto v = reader.value();
            if (!v) return std::unexpected(v.error());
            auto path = output_path_option(*v);
            if (!path) return std::unexpected(path.error());
            options.output = *path;
        } else if (name == "--title" || name == "--subtitle" || name == "--search" || name == "--font" ||
                   name == "--unit") {
            auto v = reader.value();
            if (!v) return std::unexpected(v.error());
            std::string& target = name == "--title"      ? graph.title
                                  : name == "--subtitle" ? graph.subtitle
                                  : name == "--search"   ? graph.search
                                  : name == "--font"     ? graph.font
                                                         : graph.unit;
            target = *v;
        } else if (name == "--width") {
            auto n = reader.number(100, 100000);
            if (!n) return std::unexpected(n.error());
            graph.width = static_cast<int>(*n);
        } else if (name == "--frame-height") {
            auto n = reader.number(4, 100);
            if (!n) return std::unexpected(n.error());
            graph.frame_height = static_cast<int>(*n);
        } else if (name == "--font-size") {
            auto n = reader.number(4, 100);
            if (!n) return std::unexpected(n.error());
            graph.font_size = *n;
        } else if (name == "--minwidth") {
            auto v = reader.value();
            if (!v) return std::unexpected(v.error());
            bool percent = v->ends_with('%');
            auto n = parse_number(percent ? v->substr(0, v->size() - 1) : *v);
            if (!n || *n < 0 || (percent && *n > 100))
                return std::unexpected(fmt::format("--minwidth takes pixels (0.1) or a percentage (0.5%), not '{}'", *v));
            if (percent)
                graph.min_width_percent = *n;
            else
                graph.min_width_px = *n;
        } else if (name == "--inverted") {
            if (auto ok = reader.no_value(); !ok) return std::unexpected(ok.error());
            graph.inverted = true;
        } else if (name == "--diff") {
            if (auto ok = reader.no_value(); !ok) return std::unexpected(ok.error());
            diff = true;
        } else if (name == "--rate") {
            auto n = reader.number(0.001, 1e9);
            if (!n) return std::unexpected(n.error());
            options.details.rate_hz = *n;
        } else if (auto limit = read_profile_limit_option(reader, options.limits)) {
            if (!*limit) return std::unexpected(limit->error());
        } else if (arg == "-" || !arg.starts_with("-")) {
            inputs.emplace_back(arg);
        } else {
            return std::unexpected(fmt::format("render: unknown argument '{}'", arg));
        }
    }
    if (diff) {
        if (inputs.size() != 2)
            return std::unexpected("render --diff compares two folded files: render --diff BEFORE AFTER");
        if (inputs[0] == "-" && inputs[1] == "-")
            return std::unexpected("render --diff: only one of the two inputs can be standard input");
        options.diff_before = inputs[0];
        options.input = inputs[1];
    } else if (inputs.size() > 1) {
        return std::unexpected(fmt::format("render reads one input, not also '{}' (--diff compares two)", inputs[1]));
    } else if (inputs.size() == 1) {
        options.input = inputs[0];
    }
    auto format = output_format_for(options.format, options.output);
    if (!format) return std::unexpected(format.error());
    options.format = *format;
    if (diff && *format != OutputFormat::svg)
        return std::unexpected(fmt::format("render --diff draws a flame graph: the format is svg, not {}",
                                           output_format_name(*format)));
    if (diff && graph.subtitle.empty())
        graph.subtitle = "red: a larger share of the samples after than before; blue: a smaller one";
    return options;
}

namespace {

// Folded stacks from a file or standard input ("-"); false after saying what failed.
bool read_input(const std::string& input, render::Profile& profile) {
    std::optional<render::FoldedReadError> error;
    if (input == "-") {
        error = render::read_folded(std::cin, profile);
    } else {
        std::ifstream in(input, std::ios::binary);
        if (!in) {
            std::cerr << fmt::format("pyprofd: cannot read {}: {}\n", input, std::strerror(errno));
            return false;
        }
        error = render::read_folded(in, profile);
    }
    if (error) {
        std::cerr << fmt::format("pyprofd: {} line {}: {}\n", input == "-" ? "standard input" : input, error->line,
                                 error->message);
        return false;
    }
    return true;
}

}  // namespace

int run_render(const RenderOptions& options) {
    render::Profile profile(options.limits), before(options.limits);
    if (options.diff_before && !read_input(*options.diff_before, before)) return 1;
    if (!read_input(options.input, profile)) return 1;
    for (const auto* read : {&before, &profile})
        if (auto note = truncation_note(*read); !note.empty()) std::cerr << note << "\n";
    auto details = options.details;
    if (options.diff_before) details.flame_graph.baseline = &before;
    auto written = write_profile(profile, *options.format, options.output, details);
    if (!written) {
        std::cerr << "pyprofd: " << written.error() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace pyprofd::daemon
