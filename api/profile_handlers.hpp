#pragma once
// The handlers of a session's results: its profile in each format of
// render/output_format.hpp (/sessions/{id}/flame.svg, /folded, ...), and the
// difference of two sessions as a graph or a table.
#include "api/call.hpp"
#include "render/differential.hpp"
#include "render/output_format.hpp"

namespace pyprofd::api {

// GET /sessions/{id}/<the format's url_name>; a graph takes its options from the
// query (?title=&width=&minwidth=&inverted=&search=).
Response get_profile(const Call& call, render::OutputFormat format);
// GET /sessions/{id}/diff/{other}.svg: {other}'s graph, coloured against {id}'s
// (the graph's query options); .txt and .json: the table of functions (?sort=self|total&top=N).
Response get_difference(const Call& call, render::DiffFormat format);

}  // namespace pyprofd::api
