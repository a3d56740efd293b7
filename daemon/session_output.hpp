#pragma once
// A session's results in the formats people read: what its graphs and profiles
// say beside the stacks (title, subtitle, rate, times), its profile in a format,
// and the difference of two sessions as a graph or a table. What the API serves under
// /sessions/{id}/...; the query's graph options are the API's to apply between.
#include <string>

#include "daemon/error.hpp"
#include "daemon/session_info.hpp"
#include "render/differential.hpp"
#include "render/output_format.hpp"
#include "render/profile_sources.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

// Its title names the session (or what it profiled), its subtitle the figures.
render::OutputDetails session_output_details(const SessionInfo& info);
// Profiles keep a root per thread; the formats that do not keep threads merge
// them, unless the session asked to see threads. An internal error when the format
// cannot be made.
Result<std::string> session_profile_as(render::OutputFormat format, const SessionInfo& info,
                                       const render::Profile& profile, const render::OutputDetails& details);
// The difference of two sessions, `after` against `before`, in `format`: the graph
// (titled by the two sessions) or the table (naming them, with their Python versions).
// Frames are matched across the runs (render/frame_matching.hpp), threads merged.
render::DiffOutput difference_output(const SessionInfo& before, const SessionInfo& after, render::DiffFormat format);
std::string session_difference(const SessionInfo& before_info, const render::Profile& before,
                               const SessionInfo& after_info, const render::Profile& after,
                               const render::DiffOutput& output);

}  // namespace pyprofd::daemon
