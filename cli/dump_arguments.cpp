#include "cli/dump_arguments.hpp"

#include <charconv>
#include <fmt/format.h>

#include "cli/option_values.hpp"

namespace pyprofd::cli {

CLI::App& add_dump_command(CLI::App& command_line, DumpOptions& options) {
    auto& dump = *command_line.add_subcommand("dump", "print every thread's Python stack now");
    add_value_option(
        dump, "-p,--pid", "PID",
        [&options](const std::string& text) -> std::expected<void, std::string> {
            int pid = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
            if (ec != std::errc{} || end != text.data() + text.size() || pid <= 0)
                return std::unexpected(fmt::format("--pid takes a positive number, not '{}'", text));
            options.pid = pid;
            return {};
        },
        "the Python process to read");
    dump.add_flag("--json", options.json, "as JSON (threads, frames, files, lines)");
    return dump;
}

std::expected<void, std::string> finish_dump_options(const DumpOptions& options) {
    if (!options.pid) return std::unexpected("dump needs --pid PID");
    return {};
}

}  // namespace pyprofd::cli
