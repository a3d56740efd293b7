#include "api/diff_query.hpp"

#include <fmt/format.h>

namespace pyprofd::api {

daemon::Result<TableOptions> table_options(const Target& target) {
    TableOptions options;
    auto bad = [](const std::string& name, std::string message) {
        return std::unexpected(daemon::Error{daemon::Error::Kind::invalid, std::move(message), name});
    };
    for (const auto& [name, value] : target.query) {
        if (name == "sort") {
            auto sort = render::diff_sort_named(value);
            if (!sort) return bad(name, fmt::format("sort is self or total, not '{}'", value));
            options.sort = *sort;
        } else if (name == "top") {
            auto n = whole_number(value);
            if (!n || *n < 1) return bad(name, fmt::format("top is a number of rows from 1 on, not '{}'", value));
            options.top = static_cast<std::size_t>(*n);
        } else {
            return bad(name, fmt::format("unknown query parameter '{}'; the table takes sort and top", name));
        }
    }
    return options;
}

}  // namespace pyprofd::api
