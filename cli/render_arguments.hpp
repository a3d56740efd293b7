#pragma once
// The options of `pyprofd render`: the folded input (or two, with --diff), the
// graph's looks, and where the result goes in which format.
#include <CLI/App.hpp>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "cli/profile_limit_options.hpp"
#include "daemon/profile_output.hpp"
#include "render/differential.hpp"

namespace pyprofd::cli {

struct RenderOptions {
    std::vector<std::string> inputs;  // as given: at most one, two with --diff
    bool diff = false;
    std::string input = "-";  // a folded file, or "-" for standard input
    std::optional<std::string> diff_before;  // --diff: the profile `input` is compared with
    std::string output = "-";
    std::optional<daemon::OutputFormat> format;
    std::optional<std::string> format_name;  // -f as given: its meaning depends on --diff
    // --diff: a graph, or the table as text or JSON, sorted by --sort, its first --top rows.
    render::DiffFormat diff_format = render::DiffFormat::svg;
    std::optional<render::DiffSort> sort;
    std::optional<std::size_t> top;
    daemon::OutputDetails details;  // --rate sets details.rate_hz
    render::ProfileLimits limits = default_profile_limits();  // --max-stacks, --max-frames, --max-label-mb
};

// Declares `render` and its options on the command line, read into options.
CLI::App& add_render_command(CLI::App& command_line, RenderOptions& options);

// What the options say together, once read: the inputs and the format. The error
// says what is missing or at odds.
std::expected<void, std::string> finish_render_options(RenderOptions& options);

}  // namespace pyprofd::cli
