#include "cli/render_command.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <vector>

#include "cli/profile_file.hpp"
#include "render/folded.hpp"

namespace pyprofd::cli {
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

}  // namespace pyprofd::cli
