#include "api/service_handlers.hpp"

#include <sstream>

#include "api/error_response.hpp"
#include "api/console_page.hpp"
#include "api/response_body.hpp"
#include "daemon/descriptor_limit.hpp"
#include "daemon/python_process_list.hpp"
#include "daemon/stack_dump.hpp"

namespace pyprofd::api {
namespace {

// openapi.yaml, embedded at build time: the contract is served by what follows it.
constexpr std::string_view openapi_text =
#include "openapi_yaml.inc"
    ;

void write_session_metrics(const daemon::SessionCounts& counts, std::ostream& out) {
    out << "# HELP pyprofd_sessions Sessions known to the daemon, by state.\n# TYPE pyprofd_sessions gauge\n";
    for (auto s : {daemon::SessionState::running, daemon::SessionState::completed, daemon::SessionState::stopped,
                   daemon::SessionState::target_exited, daemon::SessionState::failed, daemon::SessionState::interrupted})
        out << "pyprofd_sessions{state=\"" << daemon::to_string(s) << "\"} "
            << (counts.by_state.contains(s) ? counts.by_state.at(s) : 0) << "\n";
    out << "# HELP pyprofd_samples Samples taken by the sessions the daemon knows.\n# TYPE pyprofd_samples gauge\n"
        << "pyprofd_samples " << counts.samples << "\n";
    out << "# HELP pyprofd_sample_errors Failed samples and unreadable thread stacks of those sessions.\n"
        << "# TYPE pyprofd_sample_errors gauge\npyprofd_sample_errors " << counts.errors << "\n";
    out << "# HELP pyprofd_max_lag_seconds The latest a sample started, over those sessions.\n"
        << "# TYPE pyprofd_max_lag_seconds gauge\npyprofd_max_lag_seconds " << counts.max_lag_ms / 1000 << "\n";
}

void write_descriptor_metrics(const daemon::DescriptorUse& use, std::ostream& out) {
    // Prometheus's names for a process's own, as its client libraries export them.
    if (use.open)
        out << "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\n"
            << "process_open_fds " << *use.open << "\n";
    if (use.limit > 0)
        out << "# HELP process_max_fds The soft limit of open file descriptors.\n# TYPE process_max_fds gauge\n"
            << "process_max_fds " << use.limit << "\n";
    out << "# HELP pyprofd_descriptors_held Descriptors the sessions hold, by share: for each process attached or "
           "launched, and thread files kept open between samples.\n# TYPE pyprofd_descriptors_held gauge\n"
        << "pyprofd_descriptors_held{share=\"processes\"} " << use.process_files_held << "\n"
        << "pyprofd_descriptors_held{share=\"thread_files\"} " << use.thread_files_held << "\n";
    out << "# HELP pyprofd_descriptors_allowed The most each share may hold; a session past the processes' share is "
           "refused (503).\n# TYPE pyprofd_descriptors_allowed gauge\n"
        << "pyprofd_descriptors_allowed{share=\"processes\"} " << use.process_files_cap << "\n"
        << "pyprofd_descriptors_allowed{share=\"thread_files\"} " << use.thread_files_cap << "\n";
}

}  // namespace

Response get_index(const Call& call) {
    ConsoleContent content{.sessions = call.sessions.list(call.caller).sessions,
                           .processes = daemon::python_process_list_to_json(call.sessions.python_processes(call.caller))};
    return with_body(http::status::ok, "text/html; charset=utf-8", console_page(content));
}

Response get_health(const Call&) { return json_response(http::status::ok, {{"status", "ok"}}); }

Response get_metrics(const Call& call) {
    std::ostringstream out;
    write_session_metrics(call.sessions.counts(), out);
    write_descriptor_metrics(daemon::descriptor_use(), out);
    call.requests.write(out);
    return with_body(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", out.str());
}

Response get_openapi(const Call&) { return with_body(http::status::ok, "application/yaml", std::string(openapi_text)); }

Response list_processes(const Call& call) {
    return json_response(http::status::ok, daemon::python_process_list_to_json(call.sessions.python_processes(call.caller)));
}

Response get_process_stacks(const Call& call) {
    auto stacks = call.sessions.process_stacks(call.path.pid, call.caller);
    if (!stacks) return error_response(stacks.error());
    return json_response(http::status::ok, daemon::format_dump_json(stacks->process, stacks->sample));
}

}  // namespace pyprofd::api
