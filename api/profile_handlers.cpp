#include "api/profile_handlers.hpp"

#include "api/error_response.hpp"
#include "api/diff_query.hpp"
#include "api/graph_query.hpp"
#include "api/response_body.hpp"
#include "daemon/session_output.hpp"

namespace pyprofd::api {

Response get_profile(const Call& call, render::OutputFormat format) {
    const auto& row = render::output_format_row(format);
    auto profile = call.sessions.profile(call.path.id, call.caller);
    if (!profile) return error_response(profile.error());
    const auto& [info, samples] = *profile;
    auto details = daemon::session_output_details(info);
    if (row.draws_graph) {
        auto graph = graph_options(call.target, details.flame_graph);
        if (!graph) return error_response(graph.error(), RequestPart::query);
        details.flame_graph = *graph;
    }
    auto body = daemon::session_profile_as(format, info, *samples, details);
    if (!body) return error_response(body.error());
    auto response = with_body(http::status::ok, std::string(row.content_type), std::move(*body));
    if (row.attachment)
        response.set(http::field::content_disposition,
                     "attachment; filename=\"" + info.id + std::string(row.file_extension) + "\"");
    return response;
}

Response get_difference(const Call& call, render::DiffFormat format) {
    auto before = call.sessions.profile(call.path.id, call.caller);
    if (!before) return error_response(before.error());
    auto after = call.sessions.profile(call.path.other, call.caller);
    if (!after) return error_response(after.error());
    auto output = daemon::difference_output(before->first, after->first, format);
    if (format == render::DiffFormat::svg) {
        auto graph = graph_options(call.target, output.graph);
        if (!graph) return error_response(graph.error(), RequestPart::query);
        output.graph = *graph;
    } else {
        auto table = table_options(call.target);
        if (!table) return error_response(table.error(), RequestPart::query);
        output.sort = table->sort;
        output.top = table->top;
    }
    auto body = daemon::session_difference(before->first, *before->second, after->first, *after->second, output);
    return with_body(http::status::ok, render::content_type(format), std::move(body));
}

}  // namespace pyprofd::api
