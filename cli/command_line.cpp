#include "cli/command_line.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fmt/format.h>
#include <iostream>

#include "cli/dump_command.hpp"
#include "cli/help_format.hpp"
#include "cli/record_command.hpp"
#include "cli/render_command.hpp"
#include "cli/serve_command.hpp"

namespace pyprofd::cli {
namespace {

constexpr std::string_view about = "pyprofd - a sampling profiler for Python processes";

constexpr std::string_view notes =
    "pyprofd reads the target's memory from outside (process_vm_readv): no code is injected and the target is not "
    "stopped. Reading another user's process needs root or CAP_SYS_PTRACE.\n"
    "'pyprofd COMMAND --help' tells a command's options; 'pyprofd --help-all' all of them.";

// Every command, declared on one parser; the options are read into `options`.
struct CommandLine {
    CLI::App app{std::string(about), "pyprofd"};
    DumpOptions dump;
    RecordOptions record;
    RenderOptions render;
    ServeOptions serve;
    CLI::App* dump_command = nullptr;
    CLI::App* record_command = nullptr;
    CLI::App* render_command = nullptr;
    CLI::App* serve_command = nullptr;

    CommandLine() {
        app.set_version_flag("--version", fmt::format("pyprofd {}", PYPROFD_VERSION), "the version");
        app.require_subcommand(0, 1);
        // A flag takes no value ("--idle=3" is an error, not a true), in every command.
        app.option_defaults()->disable_flag_override();
        dump_command = &add_dump_command(app, dump);
        record_command = &add_record_command(app, record);
        render_command = &add_render_command(app, render);
        serve_command = &add_serve_command(app, serve);
        // After the commands, which would take them as their own.
        app.set_help_all_flag("--help-all", "every command's options");
        app.footer(std::string(notes));
        // Words nobody takes are left for us to name ("unknown argument 'x'").
        for (auto* command : {&app, dump_command, record_command, render_command, serve_command})
            command->allow_extras();
        use_help_format(app, {{dump_command, "pyprofd dump --pid PID [--json]"},
                              {record_command, "pyprofd record --pid PID [OPTIONS]\n"
                                               "       pyprofd record [OPTIONS] -- PROGRAM [ARGS...]"},
                              {render_command, "pyprofd render [OPTIONS] [FILE.folded|-]\n"
                                               "       pyprofd render --diff [OPTIONS] BEFORE.folded AFTER.folded"},
                              {serve_command, "pyprofd serve [--config FILE] [--listen ADDR]... [--state-dir DIR]"}});
    }
};

Printout usage_error(const std::string& message, const CLI::App* command) {
    auto help = command && command->get_parent() ? fmt::format("pyprofd {} --help", command->get_name()) : "pyprofd --help";
    return {.exit_status = exit_usage, .text = fmt::format("pyprofd: {}\nRun '{}' for usage.\n", message, help),
            .to_stderr = true};
}

// The first word a command did not take, but for the '--' CLI11 keeps.
std::optional<std::string> unknown_word(const CLI::App& command) {
    for (const auto& word : command.remaining())
        if (word != "--") return word;
    return std::nullopt;
}

bool saw_double_dash(const CLI::App& command) {
    auto words = command.remaining();
    return std::find(words.begin(), words.end(), "--") != words.end();
}

// The chosen command's options, checked together; or what is wrong with them.
template <class Options>
ParsedCommandLine finished(Options& options, const CLI::App* command, std::expected<void, std::string> checked) {
    if (!checked) return usage_error(checked.error(), command);
    return std::move(options);
}

ParsedCommandLine chosen_command(CommandLine& line) {
    if (line.dump_command->parsed())
        return finished(line.dump, line.dump_command, finish_dump_options(line.dump));
    if (line.record_command->parsed())
        return finished(line.record, line.record_command,
                        finish_record_options(line.record, saw_double_dash(*line.record_command)));
    if (line.render_command->parsed())
        return finished(line.render, line.render_command, finish_render_options(line.render));
    return std::move(line.serve);
}

}  // namespace

ParsedCommandLine parse_command_line(const std::vector<std::string>& args) {
    CommandLine line;
    if (args.empty()) return Printout{.exit_status = exit_usage, .text = line.app.help()};
    auto words = args;
    if (words.front() == "help") words.front() = "--help";  // as `pyprofd help` always did
    try {
        std::vector<std::string> reversed(words.rbegin(), words.rend());  // CLI11 takes them last first
        line.app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {  // --help, --help-all, --version
            std::ostringstream out, err;
            line.app.exit(e, out, err);
            return Printout{.text = out.str()};
        }
        return usage_error(e.what(), line.app.get_subcommands().empty() ? &line.app : line.app.get_subcommands().front());
    }
    auto chosen = line.app.get_subcommands();
    if (chosen.empty()) {
        auto word = unknown_word(line.app);
        return usage_error(word ? fmt::format("unknown command '{}'", *word) : "no command given", &line.app);
    }
    if (auto word = unknown_word(*chosen.front()))
        return usage_error(fmt::format("{}: unknown argument '{}'", chosen.front()->get_name(), *word), chosen.front());
    if (auto word = unknown_word(line.app))  // after a command's '--', where the command takes nothing more
        return usage_error(fmt::format("{}: unknown argument '{}'", chosen.front()->get_name(), *word), chosen.front());
    return chosen_command(line);
}

int run_command_line(const std::vector<std::string>& args) {
    auto parsed = parse_command_line(args);
    return std::visit(
        [](auto& options) -> int {
            using Options = std::decay_t<decltype(options)>;
            if constexpr (std::is_same_v<Options, Printout>) {
                (options.to_stderr ? std::cerr : std::cout) << options.text << std::flush;
                return options.exit_status;
            } else if constexpr (std::is_same_v<Options, DumpOptions>) {
                return run_dump(options);
            } else if constexpr (std::is_same_v<Options, RecordOptions>) {
                return run_record(options);
            } else if constexpr (std::is_same_v<Options, RenderOptions>) {
                return run_render(options);
            } else {
                return run_serve(options);
            }
        },
        parsed);
}

}  // namespace pyprofd::cli
