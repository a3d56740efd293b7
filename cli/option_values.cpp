#include "cli/option_values.hpp"

#include <CLI/Error.hpp>
#include <CLI/Option.hpp>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace pyprofd::cli {

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

std::expected<double, std::string> number_in(std::string_view name, std::string_view text, double low, double high) {
    auto n = parse_number(text);
    if (!n || *n < low || *n > high)
        return std::unexpected(fmt::format("{} takes a number from {} to {}, not '{}'", name, low, high, text));
    return *n;
}

std::expected<std::size_t, std::string> whole_number_in(std::string_view name, std::string_view text, double high) {
    auto n = number_in(name, text, 1, high);
    if (!n) return std::unexpected(n.error());
    if (*n != std::floor(*n)) return std::unexpected(fmt::format("{} takes a whole number, not {}", name, *n));
    return static_cast<std::size_t>(*n);
}

CLI::Option* add_value_option(CLI::App& command, const std::string& names, const std::string& value_name,
                              ValueReader read, const std::string& help) {
    auto* option = command.add_option_function<std::string>(
        names,
        [read = std::move(read)](const std::string& text) {
            // Thrown here, CLI11 ends the parse with this message, as for its own errors.
            if (auto done = read(text); !done) throw CLI::ValidationError(done.error());
        },
        help);
    return option->type_name(value_name)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

}  // namespace pyprofd::cli
