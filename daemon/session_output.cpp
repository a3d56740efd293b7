#include "daemon/session_output.hpp"

#include <fmt/format.h>
#include <sstream>

#include "daemon/process_sources.hpp"
#include "daemon/profile_output.hpp"
#include "render/thread_roots.hpp"

namespace pyprofd::daemon {
namespace {

Result<std::string> rendered(render::OutputFormat format, const render::Profile& profile,
                             const render::OutputDetails& details) {
    auto made = render::profile_as(format, profile, details);
    if (!made) return std::unexpected(Error{Error::Kind::internal, made.error()});
    return std::move(*made);
}

// The session's name, else the command line of what it profiled.
std::string what_was_profiled(const SessionInfo& info) {
    if (!info.spec.name.empty()) return info.spec.name;
    return command_text(info.target_command_line.empty() ? info.spec.command : info.target_command_line);
}

}  // namespace

render::OutputDetails session_output_details(const SessionInfo& info) {
    render::OutputDetails d{.rate_hz = info.spec.rate_hz, .wall_clock = info.spec.aggregation.include_idle};
    d.start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(info.created.time_since_epoch()).count();
    d.duration_ns = static_cast<std::int64_t>(info.elapsed_s * 1e9);
    d.sources = session_sources(info);
    d.flame_graph.title = graph_title(what_was_profiled(info));
    auto processes = info.spec.subprocesses ? fmt::format(" and its descendants ({} processes)", info.processes.size())
                                            : std::string();
    d.flame_graph.subtitle = fmt::format("session {}, process {}{}, Python {}, {} Hz, {:.1f} s, {} samples, {} errors{}{}",
                                         info.id, info.target_pid, processes, info.python_version, info.spec.rate_hz,
                                         info.elapsed_s, info.samples,
                                         info.failed_samples + info.thread_errors + info.skipped_processes.failed,
                                         info.spec.aggregation.include_idle ? ", idle threads included" : "",
                                         info.state == SessionState::running ? ", still running" : "");
    if (info.truncated_samples > 0)
        d.flame_graph.subtitle += fmt::format("; {} samples of stacks past {} under [truncated]", info.truncated_samples,
                                              info.truncated_by.empty() ? "the profile's limits" : info.truncated_by);
    return d;
}

Result<std::string> session_profile_as(render::OutputFormat format, const SessionInfo& info,
                                       const render::Profile& profile, const render::OutputDetails& details) {
    bool merge = !info.spec.aggregation.per_thread && !render::format_keeps_threads(format);
    if (!merge) return rendered(format, profile, details);
    return rendered(format, render::without_thread_roots(profile), details);
}

render::DiffOutput difference_output(const SessionInfo& before, const SessionInfo& after, render::DiffFormat format) {
    render::DiffOutput output{.format = format};
    output.graph = session_output_details(after).flame_graph;
    output.graph.title = fmt::format("pyprofd: {} against {}", after.id, before.id);
    output.graph.subtitle = "red: a larger share of the samples than in " + before.id + "; blue: a smaller one";
    auto name = [](const SessionInfo& info) { return fmt::format("session {} ({})", info.id, what_was_profiled(info)); };
    output.before_name = {name(before), render::python_versions_of(session_sources(before))};
    output.after_name = {name(after), render::python_versions_of(session_sources(after))};
    return output;
}

std::string session_difference(const SessionInfo& before_info, const render::Profile& before,
                               const SessionInfo& after_info, const render::Profile& after,
                               const render::DiffOutput& output) {
    std::ostringstream out;
    render::write_difference(before, session_sources(before_info), after, session_sources(after_info), output, out);
    return std::move(out).str();
}

}  // namespace pyprofd::daemon
