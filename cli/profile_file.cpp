#include "cli/profile_file.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include "render/output_format.hpp"

namespace pyprofd::cli {

std::expected<void, std::string> write_profile(const render::Profile& profile, daemon::OutputFormat format,
                                               const std::string& path, const daemon::OutputDetails& details,
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

}  // namespace pyprofd::cli
