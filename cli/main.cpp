// pyprofd's entry point: the command line decides what to run.
#include <string>
#include <vector>

#include "cli/command_line.hpp"

int main(int argc, char** argv) { return pyprofd::cli::run_command_line(std::vector<std::string>(argv + 1, argv + argc)); }
