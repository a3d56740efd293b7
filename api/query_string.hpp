#pragma once
// A request target split into its path and query parameters, percent-decoded.
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pyprofd::api {

struct Target {
    std::string path;
    std::map<std::string, std::string> query;  // the last value of a repeated name wins
};

// Fails on bad percent-encoding or a path that is not absolute.
std::expected<Target, std::string> parse_target(std::string_view target);
std::expected<std::string, std::string> percent_decoded(std::string_view text, bool plus_is_space);
// A parameter's text as a whole number ("12", "-3"), or nullopt for anything else.
std::optional<long long> whole_number(std::string_view text);

}  // namespace pyprofd::api
