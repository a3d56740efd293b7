#pragma once
// How pyprofd's --help reads: CLI11's layout, with each command's usage lines
// written out (the forms a command takes, such as record's '--' PROGRAM) and the
// text wrapped to a terminal's 80 columns. help2man makes the man page of the same
// text (cli/CMakeLists.txt).
#include <CLI/App.hpp>
#include <map>
#include <string>

namespace pyprofd::cli {

// Gives app and its commands this format; usages: the usage lines of commands that
// have their own (without "Usage: ").
void use_help_format(CLI::App& app, const std::map<const CLI::App*, std::string>& usages);

// text's paragraphs (one a line) folded at spaces to lines of at most width
// characters, the lines after a paragraph's first indented by indent spaces.
std::string wrapped(const std::string& text, std::size_t width, std::size_t indent);

}  // namespace pyprofd::cli
