#pragma once
// Where each sampled process's Python files were (render/profile_sources.hpp), for
// the outputs that carry it: folded stacks' header, and what matches frames across
// runs. From a process just attached (`record`), a worker tree's records, or a
// session's record, saved or not.
#include "daemon/sampled_process.hpp"
#include "daemon/session_info.hpp"
#include "render/profile_sources.hpp"
#include "sampler/python_process.hpp"

namespace pyprofd::daemon {

render::ProcessSources process_sources(const sampler::PythonProcess& process);
render::ProcessSources process_sources(const SampledProcess& process);

// The target first, then each other process of the tree that was attached (one that
// failed has no stacks and nothing known of it).
render::ProfileSources profile_sources(const render::ProcessSources& target,
                                       const std::vector<SampledProcess>& tree);

// A session's: its target, then its tree's processes where it followed one. None
// for a session that never attached to its target.
render::ProfileSources session_sources(const SessionInfo& info);

}  // namespace pyprofd::daemon
