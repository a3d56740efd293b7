#include "api/operations.hpp"

#include <vector>

#include "api/call.hpp"
#include "api/pprof_pull.hpp"
#include "api/console_assets.hpp"
#include "api/profile_handlers.hpp"
#include "api/service_handlers.hpp"
#include "api/session_handlers.hpp"
#include "render/output_format.hpp"

namespace pyprofd::api {
namespace {

std::vector<Route> all_operations() {
    using http::verb;
    std::vector<Route> routes{
        {verb::get, "/", get_index},
        {verb::get, "/healthz", get_health},
        {verb::get, "/metrics", get_metrics},
        {verb::get, "/openapi.yaml", get_openapi},
        {verb::post, "/sessions", start_session},
        {verb::get, "/sessions", list_sessions},
        {verb::get, "/sessions/{id}", get_session},
        {verb::delete_, "/sessions/{id}", delete_session},
        {verb::post, "/sessions/{id}/stop", stop_session},
        {verb::get, "/sessions/{id}/output", get_session_output},
        {verb::get, "/sessions/{id}/diff/{other}.svg", [](const Call& c) { return get_difference(c, render::DiffFormat::svg); }},
        {verb::get, "/sessions/{id}/diff/{other}.txt", [](const Call& c) { return get_difference(c, render::DiffFormat::text); }},
        {verb::get, "/sessions/{id}/diff/{other}.json", [](const Call& c) { return get_difference(c, render::DiffFormat::json); }},
        {verb::get, "/processes/{pid}/stacks", get_process_stacks},
        {verb::get, "/processes", list_processes},
        {verb::get, "/debug/pprof/profile", pull_pprof_profile},
        {verb::get, "/console.js", get_console_script},
        {verb::get, "/console.css", get_console_style},
    };
    // A session's profile in every format, each under its own name.
    for (const auto& row : render::output_formats())
        routes.push_back({verb::get, "/sessions/{id}/" + std::string(row.url_name),
                          [format = row.format](const Call& call) { return get_profile(call, format); }});
    return routes;
}

}  // namespace

std::span<const Route> operations() {
    static const std::vector<Route> routes = all_operations();
    return routes;
}

}  // namespace pyprofd::api
