#include "cli/render_command.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>
#include <iostream>
#include <vector>

#include "cli/profile_file.hpp"
#include "cli/output_file.hpp"
#include "render/differential.hpp"
#include "render/folded.hpp"

namespace pyprofd::cli {
namespace {

// Folded stacks from a file or standard input ("-"), with what their header says of
// where the processes' files were; false after saying what failed.
bool read_input(const std::string& input, render::Profile& profile, render::ProfileSources& sources) {
    std::optional<render::FoldedReadError> error;
    if (input == "-") {
        error = render::read_folded(std::cin, profile, &sources);
    } else {
        std::ifstream in(input, std::ios::binary);
        if (!in) {
            std::cerr << fmt::format("pyprofd: cannot read {}: {}\n", input, std::strerror(errno));
            return false;
        }
        error = render::read_folded(in, profile, &sources);
    }
    if (error) {
        std::cerr << fmt::format("pyprofd: {} line {}: {}\n", input == "-" ? "standard input" : input, error->line,
                                 error->message);
        return false;
    }
    return true;
}

std::string input_name(const std::string& input) { return input == "-" ? "standard input" : input; }

// render --diff: after (the input) against before, as a graph or a table.
int write_difference(const RenderOptions& options, const render::Profile& before,
                     const render::ProfileSources& before_sources, const render::Profile& after,
                     const render::ProfileSources& after_sources) {
    render::DiffOutput output{.format = options.diff_format,
                              .graph = options.details.flame_graph,
                              .sort = options.sort.value_or(render::DiffSort::self),
                              .top = options.top.value_or(render::all_rows),
                              .before_name = {input_name(*options.diff_before), render::python_versions_of(before_sources)},
                              .after_name = {input_name(options.input), render::python_versions_of(after_sources)}};
    auto write = [&](std::ostream& out) {
        render::write_difference(before, before_sources, after, after_sources, output, out);
    };
    auto written = options.output == "-" ? write_to_descriptor(STDOUT_FILENO, "standard output", write)
                                         : write_output_file(options.output, write);
    if (!written) {
        std::cerr << "pyprofd: " << written.error() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

int run_render(const RenderOptions& options) {
    render::Profile profile(options.limits), before(options.limits);
    render::ProfileSources sources, before_sources;
    if (options.diff_before && !read_input(*options.diff_before, before, before_sources)) return 1;
    if (!read_input(options.input, profile, sources)) return 1;
    for (const auto* read : {&before, &profile})
        if (auto note = truncation_note(*read); !note.empty()) std::cerr << note << "\n";
    if (options.diff_before) return write_difference(options, before, before_sources, profile, sources);
    auto details = options.details;
    details.sources = sources;  // folded stacks written keep what their header said
    auto written = write_profile(profile, *options.format, options.output, details);
    if (!written) {
        std::cerr << "pyprofd: " << written.error() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace pyprofd::cli
