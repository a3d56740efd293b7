#include "daemon/profile_output.hpp"

#include <fmt/format.h>
#include <sstream>

#include "render/folded.hpp"
#include "render/pprof.hpp"
#include "render/speedscope.hpp"

namespace pyprofd::daemon {

void render_profile(const render::Profile& profile, OutputFormat format, const OutputDetails& details,
                    std::ostream& out) {
    switch (format) {
        case OutputFormat::svg: render::write_flame_graph(profile, details.flame_graph, out); break;
        case OutputFormat::folded: render::write_folded(profile, out); break;
        case OutputFormat::speedscope:
            render::write_speedscope(profile, {.name = details.flame_graph.title, .rate_hz = details.rate_hz}, out);
            break;
        case OutputFormat::pprof:
            render::write_pprof(profile,
                                {.rate_hz = details.rate_hz,
                                 .wall_clock = details.wall_clock,
                                 .start_unix_ns = details.start_unix_ns,
                                 .duration_ns = details.duration_ns,
                                 .comment = details.flame_graph.subtitle},
                                out);
            break;
    }
}

std::string render_profile(const render::Profile& profile, OutputFormat format, const OutputDetails& details) {
    std::ostringstream out;
    render_profile(profile, format, details, out);
    return std::move(out).str();
}

std::string command_text(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

std::string graph_title(std::string_view target) {
    auto title = fmt::format("pyprofd: {}", target);
    if (title.size() > 120) title = title.substr(0, 117) + "...";
    return title;
}

std::optional<OutputFormat> output_format_named(std::string_view name) {
    if (name == "svg" || name == "flamegraph") return OutputFormat::svg;
    if (name == "folded" || name == "collapsed") return OutputFormat::folded;
    if (name == "speedscope") return OutputFormat::speedscope;
    if (name == "pprof") return OutputFormat::pprof;
    return std::nullopt;
}

std::optional<OutputFormat> output_format_for_path(std::string_view path) {
    if (path.ends_with(".svg")) return OutputFormat::svg;
    if (path.ends_with(".folded") || path.ends_with(".txt") || path.ends_with(".collapsed")) return OutputFormat::folded;
    if (path.ends_with(".json")) return OutputFormat::speedscope;
    if (path.ends_with(".pb.gz") || path.ends_with(".pprof")) return OutputFormat::pprof;
    return std::nullopt;
}

std::string_view output_format_name(OutputFormat format) {
    switch (format) {
        case OutputFormat::svg: return "svg";
        case OutputFormat::folded: return "folded";
        case OutputFormat::speedscope: return "speedscope";
        case OutputFormat::pprof: return "pprof";
    }
    return "";
}

std::string_view file_extension(OutputFormat format) {
    switch (format) {
        case OutputFormat::svg: return ".svg";
        case OutputFormat::folded: return ".folded";
        case OutputFormat::speedscope: return ".speedscope.json";
        case OutputFormat::pprof: return ".pb.gz";
    }
    return "";
}

std::string_view output_format_names() { return "svg, folded, speedscope, pprof"; }

bool format_keeps_threads(OutputFormat format) {
    return format == OutputFormat::speedscope || format == OutputFormat::pprof;
}

}  // namespace pyprofd::daemon
