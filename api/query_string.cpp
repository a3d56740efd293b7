#include "api/query_string.hpp"

#include <charconv>

namespace pyprofd::api {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::expected<std::string, std::string> percent_decoded(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::unexpected("a '%' without two hex digits");
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::unexpected("a '%' without two hex digits");
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::expected<Target, std::string> parse_target(std::string_view target) {
    Target parsed;
    auto question = target.find('?');
    auto raw_path = target.substr(0, question);
    if (raw_path.empty() || raw_path.front() != '/') return std::unexpected("the path must start with '/'");
    auto path = percent_decoded(raw_path, false);
    if (!path) return std::unexpected("the path has " + path.error());
    parsed.path = std::move(*path);
    if (question == std::string_view::npos) return parsed;
    auto query = target.substr(question + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto name = percent_decoded(pair.substr(0, eq), true);
        auto value = percent_decoded(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!name || !value) return std::unexpected("the query has " + (name ? value.error() : name.error()));
        parsed.query[std::move(*name)] = std::move(*value);
    }
    return parsed;
}

std::optional<long long> whole_number(std::string_view text) {
    long long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

}  // namespace pyprofd::api
