#pragma once
// `pyprofd render`: folded stacks from any tool (pyprofd, py-spy's raw output,
// perf through stackcollapse, flamegraph.pl's input) to a flame graph or another
// format, so the renderer can be used and measured on its own; with --diff, a
// differential flame graph of two of them.
#include "cli/render_arguments.hpp"

namespace pyprofd::cli {

int run_render(const RenderOptions& options);

}  // namespace pyprofd::cli
