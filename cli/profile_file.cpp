#include "cli/profile_file.hpp"

#include <unistd.h>

namespace pyprofd::cli {

std::expected<void, std::string> write_profile(const render::Profile& profile, daemon::OutputFormat format,
                                               const std::string& path, const daemon::OutputDetails& details,
                                               const ReaderWait& wait) {
    // Streamed as it is rendered: a large graph is never held whole in memory.
    auto rendered = [&](std::ostream& out) { daemon::render_profile(profile, format, details, out); };
    if (path == "-") return write_to_descriptor(STDOUT_FILENO, "standard output", rendered);
    return write_output_file(path, rendered, wait);
}

}  // namespace pyprofd::cli
