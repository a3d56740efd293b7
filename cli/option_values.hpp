#pragma once
// Option values read into settings, with errors that name the option and say what
// it takes. CLI11 finds the options and their values (--name value, --name=value,
// -n value, -nvalue); what a value may be is said here, the same for every command.
#include <CLI/App.hpp>
#include <cstddef>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pyprofd::cli {

// A finite decimal number, all of text; nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

// A number from low to high (inclusive); else "NAME takes a number from LOW to
// HIGH, not 'TEXT'".
std::expected<double, std::string> number_in(std::string_view name, std::string_view text, double low, double high);
// A whole number from 1 to high; else as number_in says, or "NAME takes a whole
// number, not N".
std::expected<std::size_t, std::string> whole_number_in(std::string_view name, std::string_view text, double high);

// What an option does with its value: stores the setting, or says what is wrong.
using ValueReader = std::function<std::expected<void, std::string>(const std::string& text)>;

// Declares an option that takes one value (the last one given counts), shown in
// the help as value_name. A value `read` refuses is a usage error with its message.
CLI::Option* add_value_option(CLI::App& command, const std::string& names, const std::string& value_name,
                              ValueReader read, const std::string& help);

}  // namespace pyprofd::cli
