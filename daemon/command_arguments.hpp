#pragma once
// Reading a command's arguments: options given as "--name value" or
// "--name=value", flags that take no value, and numbers, with errors that say
// which option was wrong and why. Shared by the commands (record, render, ...).
#include <cstddef>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pyprofd::daemon {

class ArgumentReader {
public:
    explicit ArgumentReader(std::span<const std::string_view> args) : args_(args) {}

    // Moves to the next argument; false after the last.
    bool next();
    std::string_view argument() const { return args_[at_]; }
    // The option's name: the argument, without "=value" for "--name=value".
    std::string_view name() const { return name_; }
    // The option's value: after '=', else the next argument.
    std::expected<std::string_view, std::string> value();
    // A number from low to high (inclusive).
    std::expected<double, std::string> number(double low, double high);
    // For a flag: an error if it came with "=value".
    std::expected<void, std::string> no_value() const;
    // The arguments after the current one.
    std::span<const std::string_view> rest() const { return args_.subspan(at_ + 1); }

private:
    std::span<const std::string_view> args_;
    std::size_t at_ = static_cast<std::size_t>(-1);
    std::string_view name_;
    std::optional<std::string_view> inline_value_;
};

// A finite decimal number, all of text; nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

}  // namespace pyprofd::daemon
