#pragma once
// The options of a flame graph that a URL's query may set: ?title=&subtitle=&width=
// &minwidth=&inverted=&search= (and the graph's own view state, s and z, which its
// script keeps in the URL). Anything else is refused, naming the parameter.
#include "api/query_string.hpp"
#include "daemon/error.hpp"
#include "render/flame_graph.hpp"

namespace pyprofd::api {

// `graph` with what the query sets; an invalid error names the parameter at fault.
daemon::Result<render::FlameGraphOptions> graph_options(const Target& target, render::FlameGraphOptions graph);

}  // namespace pyprofd::api
