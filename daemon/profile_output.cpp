#include "daemon/profile_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <iostream>
#include <sstream>

#include "render/folded.hpp"

namespace pyprofd::daemon {
namespace {

std::string render_to_string(const render::Profile& profile, OutputFormat format,
                             const render::FlameGraphOptions& flame_graph) {
    std::ostringstream out;
    switch (format) {
        case OutputFormat::svg: render::write_flame_graph(profile, flame_graph, out); break;
        case OutputFormat::folded: render::write_folded(profile, out); break;
    }
    return std::move(out).str();
}

std::expected<void, std::string> write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(std::string(std::strerror(errno)));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace

std::optional<OutputFormat> output_format_named(std::string_view name) {
    if (name == "svg" || name == "flamegraph") return OutputFormat::svg;
    if (name == "folded" || name == "collapsed") return OutputFormat::folded;
    return std::nullopt;
}

std::optional<OutputFormat> output_format_for_path(std::string_view path) {
    if (path.ends_with(".svg")) return OutputFormat::svg;
    if (path.ends_with(".folded") || path.ends_with(".txt") || path.ends_with(".collapsed")) return OutputFormat::folded;
    return std::nullopt;
}

std::string_view file_extension(OutputFormat format) {
    switch (format) {
        case OutputFormat::svg: return ".svg";
        case OutputFormat::folded: return ".folded";
    }
    return "";
}

std::string_view output_format_names() { return "svg, folded"; }

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
                                       "endings .svg, .folded, .txt",
                                       output, output_format_names()));
}

std::expected<void, std::string> write_profile(const render::Profile& profile, OutputFormat format,
                                               const std::string& path,
                                               const render::FlameGraphOptions& flame_graph) {
    auto data = render_to_string(profile, format, flame_graph);
    if (path == "-") {
        std::cout << data << std::flush;
        if (!std::cout) return std::unexpected("cannot write to standard output");
        return {};
    }
    auto temp = fmt::format("{}.tmp-{}", path, ::getpid());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    auto written = write_all(fd, data);
    if (written && ::fsync(fd) != 0) written = std::unexpected(std::string(std::strerror(errno)));
    if (::close(fd) != 0 && written) written = std::unexpected(std::string(std::strerror(errno)));
    if (written && ::rename(temp.c_str(), path.c_str()) != 0)
        written = std::unexpected(std::string(std::strerror(errno)));
    if (!written) {
        ::unlink(temp.c_str());
        return std::unexpected(fmt::format("cannot write {}: {}", path, written.error()));
    }
    return {};
}

}  // namespace pyprofd::daemon
