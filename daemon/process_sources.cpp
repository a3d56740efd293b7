#include "daemon/process_sources.hpp"

namespace pyprofd::daemon {

render::ProcessSources process_sources(const sampler::PythonProcess& process) {
    return {.pid = process.pid(),
            .python_version = process.version().to_string(),
            .working_directory = process.working_directory(),
            .standard_library = process.standard_library()};
}

render::ProcessSources process_sources(const SampledProcess& process) {
    return {.pid = process.pid,
            .python_version = process.python_version,
            .working_directory = process.working_directory,
            .standard_library = process.standard_library};
}

render::ProfileSources profile_sources(const render::ProcessSources& target,
                                       const std::vector<SampledProcess>& tree) {
    render::ProfileSources sources{target};
    for (const auto& p : tree)
        if (p.pid != target.pid && p.state != SampledProcessState::failed) sources.push_back(process_sources(p));
    return sources;
}

render::ProfileSources session_sources(const SessionInfo& info) {
    if (info.target_pid == 0) return {};
    render::ProcessSources target{.pid = info.target_pid,
                                  .python_version = info.python_version,
                                  .working_directory = info.working_directory,
                                  .standard_library = info.standard_library};
    return profile_sources(target, info.spec.subprocesses ? info.processes : std::vector<SampledProcess>{});
}

}  // namespace pyprofd::daemon
