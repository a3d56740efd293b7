#include "daemon/render_command.hpp"

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>

#include "render/folded.hpp"

namespace pyprofd::daemon {
namespace {

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

}  // namespace

std::expected<RenderOptions, std::string> parse_render_arguments(std::span<const std::string_view> args) {
    RenderOptions options;
    bool have_input = false;
    auto& graph = options.flame_graph;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view name = arg, inline_value;
        bool has_inline = false;
        if (arg.starts_with("--") && arg.find('=') != std::string_view::npos) {
            auto eq = arg.find('=');
            name = arg.substr(0, eq);
            inline_value = arg.substr(eq + 1);
            has_inline = true;
        }
        auto value = [&]() -> std::expected<std::string_view, std::string> {
            if (has_inline) return inline_value;
            if (i + 1 >= args.size()) return std::unexpected(fmt::format("{} needs a value", name));
            return args[++i];
        };
        auto number = [&](double low, double high) -> std::expected<double, std::string> {
            auto v = value();
            if (!v) return std::unexpected(v.error());
            auto n = parse_number(*v);
            if (!n || *n < low || *n > high)
                return std::unexpected(fmt::format("{} takes a number from {} to {}, not '{}'", name, low, high, *v));
            return *n;
        };
        if (name == "--format" || name == "-f") {
            auto v = value();
            if (!v) return std::unexpected(v.error());
            options.format = output_format_named(*v);
            if (!options.format)
                return std::unexpected(fmt::format("--format takes one of {}, not '{}'", output_format_names(), *v));
        } else if (name == "--output" || name == "-o") {
            auto v = value();
            if (!v) return std::unexpected(v.error());
            if (v->empty()) return std::unexpected("--output needs a file name ('-' for standard output)");
            options.output = *v;
        } else if (name == "--title" || name == "--subtitle" || name == "--search" || name == "--font" ||
                   name == "--unit") {
            auto v = value();
            if (!v) return std::unexpected(v.error());
            std::string& target = name == "--title"      ? graph.title
                                  : name == "--subtitle" ? graph.subtitle
                                  : name == "--search"   ? graph.search
                                  : name == "--font"     ? graph.font
                                                         : graph.unit;
            target = *v;
        } else if (name == "--width") {
            auto n = number(100, 100000);
            if (!n) return std::unexpected(n.error());
            graph.width = static_cast<int>(*n);
        } else if (name == "--frame-height") {
            auto n = number(4, 100);
            if (!n) return std::unexpected(n.error());
            graph.frame_height = static_cast<int>(*n);
        } else if (name == "--font-size") {
            auto n = number(4, 100);
            if (!n) return std::unexpected(n.error());
            graph.font_size = *n;
        } else if (name == "--minwidth") {
            auto v = value();
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
            if (has_inline) return std::unexpected("--inverted takes no value");
            graph.inverted = true;
        } else if (arg == "-" || !arg.starts_with("-")) {
            if (have_input) return std::unexpected(fmt::format("render reads one input, not also '{}'", arg));
            options.input = arg;
            have_input = true;
        } else {
            return std::unexpected(fmt::format("render: unknown argument '{}'", arg));
        }
    }
    if (!options.format && options.output != "-") {
        options.format = output_format_for_path(options.output);
        if (!options.format)
            return std::unexpected(fmt::format("cannot tell the format from the name '{}': use --format ({})",
                                               options.output, output_format_names()));
    }
    if (!options.format) options.format = OutputFormat::svg;
    return options;
}

int run_render(const RenderOptions& options) {
    render::Profile profile;
    std::optional<render::FoldedReadError> error;
    if (options.input == "-") {
        error = render::read_folded(std::cin, profile);
    } else {
        std::ifstream in(options.input, std::ios::binary);
        if (!in) {
            std::cerr << fmt::format("pyprofd: cannot read {}: {}\n", options.input, std::strerror(errno));
            return 1;
        }
        error = render::read_folded(in, profile);
    }
    if (error) {
        std::cerr << fmt::format("pyprofd: {} line {}: {}\n", options.input == "-" ? "standard input" : options.input,
                                 error->line, error->message);
        return 1;
    }
    auto written = write_profile(profile, *options.format, options.output, options.flame_graph);
    if (!written) {
        std::cerr << "pyprofd: " << written.error() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace pyprofd::daemon
