#include "cli/output_options.hpp"

#include <fmt/format.h>

#include "cli/option_values.hpp"
#include "render/output_format.hpp"

namespace pyprofd::cli {

using daemon::OutputFormat;

std::expected<OutputFormat, std::string> output_format_option(std::string_view value) {
    if (auto format = daemon::output_format_named(value)) return *format;
    return std::unexpected(fmt::format("--format takes one of {}, not '{}'", daemon::output_format_names(), value));
}

std::expected<std::string, std::string> output_path_option(std::string_view value) {
    if (value.empty()) return std::unexpected("--output needs a file name ('-' for standard output)");
    return std::string(value);
}

std::expected<OutputFormat, std::string> output_format_for(std::optional<OutputFormat> chosen, const std::string& output) {
    if (chosen) return *chosen;
    if (output.empty() || output == "-") return OutputFormat::svg;
    if (auto format = daemon::output_format_for_path(output)) return *format;
    return std::unexpected(fmt::format("cannot tell the format from the name '{}': use --format ({}) or one of the "
                                       "endings {}",
                                       output, daemon::output_format_names(), render::output_format_endings()));
}

void add_output_path_option(CLI::App& command, std::string& output, const std::string& output_help) {
    add_value_option(
        command, "-o,--output", "FILE",
        [&output](const std::string& text) -> std::expected<void, std::string> {
            auto path = output_path_option(text);
            if (!path) return std::unexpected(path.error());
            output = *path;
            return {};
        },
        output_help);
}

void add_output_options(CLI::App& command, std::string& output, std::optional<OutputFormat>& format,
                        const std::string& output_help) {
    add_output_path_option(command, output, output_help);
    add_value_option(
        command, "-f,--format", "F",
        [&format](const std::string& text) -> std::expected<void, std::string> {
            auto chosen = output_format_option(text);
            if (!chosen) return std::unexpected(chosen.error());
            format = *chosen;
            return {};
        },
        "svg (an interactive flame graph), folded, speedscope (JSON, a profile per thread) or pprof "
        "(profile.pb.gz); default: from the file name (.svg .folded .txt .json .pb.gz), else svg");
}

}  // namespace pyprofd::cli
