// pyprofd's entry point: the command line decides what to run.
#include <span>
#include <string_view>
#include <vector>

#include "api/serve.hpp"
#include "daemon/command_line.hpp"

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    // The daemon: the HTTP API over the session manager.
    if (!args.empty() && args[0] == "serve") return pyprofd::api::run_serve(std::span(args).subspan(1));
    return pyprofd::daemon::run_command_line(args);
}
