#include "daemon/profile_output.hpp"

#include <unistd.h>

#include <fmt/format.h>

namespace pyprofd::daemon {

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

std::expected<OutputFormat, std::string> output_format_option(std::string_view value) {
    if (auto format = output_format_named(value)) return *format;
    return std::unexpected(fmt::format("--format takes one of {}, not '{}'", output_format_names(), value));
}

std::expected<std::string, std::string> output_path_option(std::string_view value) {
    if (value.empty()) return std::unexpected("--output needs a file name ('-' for standard output)");
    return std::string(value);
}

std::expected<OutputFormat, std::string> output_format_for(std::optional<OutputFormat> chosen, const std::string& output) {
    if (chosen) return *chosen;
    if (output.empty() || output == "-") return OutputFormat::svg;
    if (auto format = output_format_for_path(output)) return *format;
    return std::unexpected(fmt::format("cannot tell the format from the name '{}': use --format ({}) or one of the "
                                       "endings {}",
                                       output, output_format_names(), render::output_format_endings()));
}

std::expected<void, std::string> write_profile(const render::Profile& profile, OutputFormat format,
                                               const std::string& path, const OutputDetails& details,
                                               const ReaderWait& wait) {
    // Streamed as it is rendered: a large graph is never held whole in memory. A
    // format that cannot be made fails the stream, so no file is replaced by it.
    std::string not_rendered;
    auto rendered = [&](std::ostream& out) {
        if (auto written = render::write_profile_as(format, profile, details, out); !written) {
            not_rendered = written.error();
            out.setstate(std::ios::badbit);
        }
    };
    auto written = path == "-" ? write_to_descriptor(STDOUT_FILENO, "standard output", rendered)
                               : write_output_file(path, rendered, wait);
    if (!not_rendered.empty())
        return std::unexpected(fmt::format("cannot write {}: {}", path == "-" ? "to standard output" : path, not_rendered));
    return written;
}

}  // namespace pyprofd::daemon
