#pragma once
// The options of a difference's table that a URL's query may set: ?sort=self|total
// and ?top=N. Anything else is refused, naming the parameter.
#include <cstddef>

#include "api/query_string.hpp"
#include "daemon/error.hpp"
#include "render/diff_table.hpp"

namespace pyprofd::api {

struct TableOptions {
    render::DiffSort sort = render::DiffSort::self;
    std::size_t top = render::all_rows;
};

daemon::Result<TableOptions> table_options(const Target& target);

}  // namespace pyprofd::api
