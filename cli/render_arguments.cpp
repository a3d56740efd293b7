#include "cli/render_arguments.hpp"

#include <fmt/format.h>

#include "cli/option_values.hpp"
#include "cli/output_options.hpp"

namespace pyprofd::cli {
namespace {

// An option that sets a text as given: of the graph, or kept to be read once all
// options are known (a std::optional).
template <class Text>
void add_text_option(CLI::App& command, const std::string& names, const std::string& value_name, Text& target,
                     const std::string& help) {
    add_value_option(
        command, names, value_name,
        [&target](const std::string& text) -> std::expected<void, std::string> {
            target = text;
            return {};
        },
        help);
}

template <class Number>
void set_number(Number& target, double n) {
    target = static_cast<Number>(n);
}
template <class Number>
void set_number(std::optional<Number>& target, double n) {
    target = static_cast<Number>(n);
}

// An option that takes a number in a range, into a number or a std::optional of one.
template <class Target>
void add_number_option(CLI::App& command, const std::string& name, const std::string& value_name, double low,
                       double high, Target& target, const std::string& help) {
    add_value_option(
        command, name, value_name,
        [&target, name, low, high](const std::string& text) -> std::expected<void, std::string> {
            auto n = number_in(name, text, low, high);
            if (!n) return std::unexpected(n.error());
            set_number(target, *n);
            return {};
        },
        help);
}

void add_graph_options(CLI::App& command, render::FlameGraphOptions& graph) {
    add_text_option(command, "--title", "T", graph.title, "the graph's title");
    add_text_option(command, "--subtitle", "S", graph.subtitle, "a line under the title");
    add_text_option(command, "--search", "TERM", graph.search, "highlighted on opening: text, or /regex/");
    add_text_option(command, "--font", "NAME", graph.font, "the font family");
    add_text_option(command, "--unit", "NAME", graph.unit, "what counts are of (default samples)");
    add_number_option(command, "--width", "PX", 100, 100000, graph.width, "the graph's width (default 1200)");
    add_number_option(command, "--frame-height", "PX", 4, 100, graph.frame_height, "a frame's height (default 16)");
    add_number_option(command, "--font-size", "PX", 4, 100, graph.font_size, "the text's size (default 12)");
    add_value_option(
        command, "--minwidth", "PX|P%",
        [&graph](const std::string& text) -> std::expected<void, std::string> {
            std::string_view value = text;
            bool percent = value.ends_with('%');
            auto n = parse_number(percent ? value.substr(0, value.size() - 1) : value);
            if (!n || *n < 0 || (percent && *n > 100))
                return std::unexpected(
                    fmt::format("--minwidth takes pixels (0.1) or a percentage (0.5%), not '{}'", text));
            if (percent)
                graph.min_width_percent = *n;
            else
                graph.min_width_px = *n;
            return {};
        },
        "leave out frames narrower than this (default 0.1 px)");
    command.add_flag("--inverted", graph.inverted, "an icicle graph: the root at the top");
}

}  // namespace

CLI::App& add_render_command(CLI::App& command_line, RenderOptions& options) {
    auto& command = *command_line.add_subcommand(
        "render",
        "draw folded stacks (any tool's) as a flame graph, or turn them into speedscope or pprof; with --diff, a "
        "differential flame graph: AFTER's shape, coloured by each frame's change in share");
    command.add_option("FILE", options.inputs, "folded stacks ('-' or none: standard input); with --diff, BEFORE AFTER")
        ->option_text("...");
    add_output_path_option(command, options.output, "where to write ('-': standard output, the default)");
    add_text_option(command, "-f,--format", "F", options.format_name,
                       "svg (an interactive flame graph), folded, speedscope (JSON, a profile per thread) or pprof "
                       "(profile.pb.gz); with --diff: svg, text or json (a table of functions); default: from the file "
                       "name (.svg .folded .txt .json .pb.gz), else svg");
    command.add_flag("--diff", options.diff,
                     "compare two folded files, BEFORE AFTER, frames matched across Python versions (2.7 against 3.x)");
    add_value_option(
        command, "--sort", "self|total",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            auto sort = render::diff_sort_named(text);
            if (!sort) return std::unexpected(fmt::format("--sort takes self or total, not '{}'", text));
            options.sort = *sort;
            return {};
        },
        "--diff's table: rows by change of self share (default: where the time went) or of total share");
    add_number_option(command, "--top", "N", 1, 1e9, options.top, "--diff's table: only its first N rows");
    add_number_option(command, "--rate", "HZ", 0.001, 1e9, options.details.rate_hz,
                      "the rate the input was sampled at: speedscope and pprof then give times, not only sample counts");
    add_graph_options(command, options.details.flame_graph);
    add_profile_limit_options(command, options.limits);
    return command;
}

std::expected<void, std::string> finish_render_options(RenderOptions& options) {
    auto& inputs = options.inputs;
    if (options.diff) {
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
    if (options.diff) {
        if (options.format_name) {
            auto format = render::diff_format_named(*options.format_name);
            if (!format)
                return std::unexpected(fmt::format(
                    "render --diff writes svg (a graph), text or json (a table), not '{}'", *options.format_name));
            options.diff_format = *format;
        } else if (options.output != "-" && !options.output.empty()) {
            auto format = render::diff_format_for_path(options.output);
            if (!format)
                return std::unexpected(fmt::format("cannot tell the format from the name '{}': render --diff writes "
                                                   "svg, text or json; use --format or one of the endings .svg .txt .json",
                                                   options.output));
            options.diff_format = *format;
        }
        if ((options.sort || options.top) && options.diff_format == render::DiffFormat::svg)
            return std::unexpected(fmt::format("{} orders the table of render --diff: use --format text or json",
                                               options.sort ? "--sort" : "--top"));
        auto& graph = options.details.flame_graph;
        if (graph.subtitle.empty())
            graph.subtitle = "red: a larger share of the samples after than before; blue: a smaller one";
        return {};
    }
    if (options.sort || options.top)
        return std::unexpected(fmt::format("{} orders the table of render --diff --format text|json",
                                           options.sort ? "--sort" : "--top"));
    if (options.format_name) {
        auto chosen = output_format_option(*options.format_name);
        if (!chosen) return std::unexpected(chosen.error());
        options.format = *chosen;
    }
    auto format = output_format_for(options.format, options.output);
    if (!format) return std::unexpected(format.error());
    options.format = *format;
    return {};
}

}  // namespace pyprofd::cli
