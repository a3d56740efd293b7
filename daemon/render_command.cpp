#include "daemon/render_command.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>

#include "daemon/command_arguments.hpp"
#include "render/folded.hpp"

namespace pyprofd::daemon {
std::expected<RenderOptions, std::string> parse_render_arguments(std::span<const std::string_view> args) {
    RenderOptions options;
    bool have_input = false;
    auto& graph = options.flame_graph;
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
        } else if (arg == "-" || !arg.starts_with("-")) {
            if (have_input) return std::unexpected(fmt::format("render reads one input, not also '{}'", arg));
            options.input = arg;
            have_input = true;
        } else {
            return std::unexpected(fmt::format("render: unknown argument '{}'", arg));
        }
    }
    auto format = output_format_for(options.format, options.output);
    if (!format) return std::unexpected(format.error());
    options.format = *format;
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
