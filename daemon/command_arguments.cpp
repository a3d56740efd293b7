#include "daemon/command_arguments.hpp"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace pyprofd::daemon {

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

bool ArgumentReader::next() {
    if (++at_ >= args_.size()) return false;
    auto arg = args_[at_];
    name_ = arg;
    inline_value_.reset();
    if (arg.starts_with("--"))
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            name_ = arg.substr(0, eq);
            inline_value_ = arg.substr(eq + 1);
        }
    return true;
}

std::expected<std::string_view, std::string> ArgumentReader::value() {
    if (inline_value_) return *inline_value_;
    if (at_ + 1 >= args_.size()) return std::unexpected(fmt::format("{} needs a value", name_));
    return args_[++at_];
}

std::expected<double, std::string> ArgumentReader::number(double low, double high) {
    auto v = value();
    if (!v) return std::unexpected(v.error());
    auto n = parse_number(*v);
    if (!n || *n < low || *n > high)
        return std::unexpected(fmt::format("{} takes a number from {} to {}, not '{}'", name_, low, high, *v));
    return *n;
}

std::expected<void, std::string> ArgumentReader::no_value() const {
    if (inline_value_) return std::unexpected(fmt::format("{} takes no value", name_));
    return {};
}

}  // namespace pyprofd::daemon
