#pragma once
// `pyprofd render`: folded stacks from any tool (pyprofd, py-spy's raw output,
// perf through stackcollapse, flamegraph.pl's input) to a flame graph or another
// format, so the renderer can be used and measured on its own; with --diff, a
// differential flame graph of two of them.
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/profile_limit_options.hpp"
#include "daemon/profile_output.hpp"
#include "render/flame_graph.hpp"

namespace pyprofd::daemon {

struct RenderOptions {
    std::string input = "-";  // a folded file, or "-" for standard input
    std::optional<std::string> diff_before;  // --diff: the profile `input` is compared with
    std::string output = "-";
    std::optional<OutputFormat> format;
    OutputDetails details;  // --rate sets details.rate_hz
    render::ProfileLimits limits = default_profile_limits();  // --max-stacks, --max-frames, --max-label-mb
};

std::expected<RenderOptions, std::string> parse_render_arguments(std::span<const std::string_view> args);
int run_render(const RenderOptions& options);

}  // namespace pyprofd::daemon
