#pragma once
// `pyprofd serve`: the long-lived daemon. Reads the configuration (file, then
// flags), reloads the saved sessions, listens, and on SIGTERM or SIGINT stops
// accepting, ends the running sessions as `stopped`, saves them, and exits 0.
#include <span>
#include <string_view>

namespace pyprofd::api {

int run_serve(std::span<const std::string_view> args);

}  // namespace pyprofd::api
