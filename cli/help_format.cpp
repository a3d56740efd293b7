#include "cli/help_format.hpp"

#include <CLI/Formatter.hpp>
#include <cctype>
#include <memory>
#include <sstream>

namespace pyprofd::cli {
namespace {

constexpr std::size_t line_width = 80;
constexpr std::size_t name_column = 30;  // where options' descriptions start

class HelpFormat : public CLI::Formatter {
public:
    explicit HelpFormat(std::map<const CLI::App*, std::string> usages) : usages_(std::move(usages)) {
        column_width(name_column);
    }

    // --help-all: one page for every command, in the shape help2man reads into the
    // man page: the usage lines of all commands (its SYNOPSIS), then a section of
    // options per command, each headed "COMMAND options:".
    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
        if (mode != CLI::AppFormatMode::All || app->get_parent() != nullptr)
            return CLI::Formatter::make_help(app, std::move(name), mode);
        std::string out = make_description(app);
        out += "Usage: pyprofd [--help|--help-all|--version]\n";
        for (const auto* command : app->get_subcommands({}))
            if (auto found = usages_.find(command); found != usages_.end()) out += "  or:  " + continued(found->second) + "\n";
        out += make_groups(app, mode);
        out += "\nCommands:\n";
        for (const auto* command : app->get_subcommands({})) out += make_subcommand(command);
        for (const auto* command : app->get_subcommands({})) {
            auto title = command->get_name();
            title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
            out += "\n" + title + " options:\n";
            for (const auto* option : command->get_options({}))
                if (option != command->get_help_ptr()) out += make_option(option, option->get_positional());
            if (!command->get_footer().empty()) out += "\n" + wrapped(command->get_footer(), line_width, 0) + "\n";
        }
        return out + "\n" + make_footer(app);
    }

    std::string make_usage(const CLI::App* app, std::string name) const override {
        if (auto found = usages_.find(app); found != usages_.end()) return "Usage: " + found->second + "\n";
        return CLI::Formatter::make_usage(app, std::move(name));
    }

    std::string make_description(const CLI::App* app) const override {
        auto text = app->get_description();
        return text.empty() ? std::string() : wrapped(text, line_width, 0) + "\n\n";
    }

    std::string make_footer(const CLI::App* app) const override {
        auto text = app->get_footer();
        return text.empty() ? std::string() : wrapped(text, line_width, 0) + "\n";
    }

    // "  NAME OPTS   description", the description folded under itself.
    std::string make_option(const CLI::Option* opt, bool is_positional) const override {
        return two_columns(make_option_name(opt, is_positional) + make_option_opts(opt), make_option_desc(opt));
    }

    std::string make_subcommand(const CLI::App* command) const override {
        return two_columns(command->get_display_name(true), command->get_description());
    }

private:
    // A usage of several lines as "or:" lines.
    static std::string continued(std::string usage) {
        for (std::size_t at = 0; (at = usage.find("\n       ", at)) != std::string::npos;) usage.replace(at, 8, "\n  or:  ");
        return usage;
    }

    std::string two_columns(const std::string& name, const std::string& text) const {
        auto left = "  " + name;
        auto description = wrapped(text, line_width - name_column, 0);
        std::string indent(name_column, ' ');
        std::string out = left.size() + 1 < name_column ? left + std::string(name_column - left.size(), ' ')
                                                         : left + "\n" + indent;
        for (char c : description) {
            out += c;
            if (c == '\n') out += indent;
        }
        return out + "\n";
    }

    std::map<const CLI::App*, std::string> usages_;
};

}  // namespace

std::string wrapped(const std::string& text, std::size_t width, std::size_t indent) {
    std::string out;
    std::istringstream paragraphs(text);
    for (std::string paragraph; std::getline(paragraphs, paragraph);) {
        if (!out.empty()) out += '\n';
        std::size_t column = 0;
        std::istringstream words(paragraph);
        for (std::string word; words >> word;) {
            if (column > 0 && column + 1 + word.size() > width) {
                out += '\n' + std::string(indent, ' ');
                column = indent;
            } else if (column > 0) {
                out += ' ';
                ++column;
            }
            out += word;
            column += word.size();
        }
    }
    return out;
}

void use_help_format(CLI::App& app, const std::map<const CLI::App*, std::string>& usages) {
    auto format = std::make_shared<HelpFormat>(usages);
    app.formatter(format);
    for (auto* command : app.get_subcommands({})) command->formatter(format);
}

}  // namespace pyprofd::cli
