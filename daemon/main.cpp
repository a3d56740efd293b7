// pyprofd's entry point: the command line decides what to run.
#include <string_view>
#include <vector>

#include "daemon/command_line.hpp"

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    return pyprofd::daemon::run_command_line(args);
}
