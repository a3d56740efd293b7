#pragma once
// A session's results in the formats people read: what its graphs and profiles
// say beside the stacks (title, subtitle, rate, times), its profile in a format,
// and the difference of two sessions as a graph. What the API serves under
// /sessions/{id}/...; the query's graph options are the API's to apply between.
#include <string>

#include "daemon/error.hpp"
#include "daemon/session_info.hpp"
#include "render/output_format.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

// Its title names the session (or what it profiled), its subtitle the figures.
render::OutputDetails session_output_details(const SessionInfo& info);
// A graph of `after`, coloured by how each frame's share changed since `before`.
render::OutputDetails difference_details(const SessionInfo& before, const SessionInfo& after);

// Profiles keep a root per thread; the formats that do not keep threads merge
// them, unless the session asked to see threads. An internal error when the format
// cannot be made.
Result<std::string> session_profile_as(render::OutputFormat format, const SessionInfo& info,
                                       const render::Profile& profile, const render::OutputDetails& details);
// Threads merged in both; details from difference_details(), the graph options as wanted.
Result<std::string> difference_graph(const render::Profile& before, const render::Profile& after,
                                     render::OutputDetails details);

}  // namespace pyprofd::daemon
