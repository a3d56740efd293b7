#pragma once
// `pyprofd serve`: the long-lived daemon. Reads the configuration (file, then
// flags), reloads the saved sessions, listens, and on SIGTERM or SIGINT stops
// accepting, ends the running sessions as `stopped`, saves them, and exits 0.
#include "cli/serve_arguments.hpp"

namespace pyprofd::cli {

int run_serve(const ServeOptions& options);

}  // namespace pyprofd::cli
