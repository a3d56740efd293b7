#include "api/index_page.hpp"

#include <fmt/format.h>

#include "daemon/session_json.hpp"
#include "render/output_format.hpp"
#include "render/xml_text.hpp"

namespace pyprofd::api {
namespace {

// A link to the session's profile in every format.
std::string result_links(const std::string& id) {
    std::string links;
    for (const auto& format : render::output_formats())
        links += fmt::format("{}<a href=\"/sessions/{}/{}\">{}</a>", links.empty() ? "" : " &middot; ", id,
                             format.url_name, format.label);
    return links;
}

}  // namespace

std::string index_page(const std::vector<daemon::SessionInfo>& sessions) {
    std::string html = R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pyprofd</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; }
.running { color: #0a7; } .failed, .interrupted { color: #c33; }
</style></head><body>
<h1>pyprofd</h1>
<p>Start a session: <code>curl -X POST http://HOST/sessions -d '{"pid": 4242, "rate_hz": 1000, "duration_s": 20}'</code>
&middot; <a href="/openapi.yaml">API</a> &middot; <a href="/metrics">metrics</a></p>
)html";
    if (sessions.empty()) {
        html += "<p>No sessions yet.</p>\n";
    } else {
        html += "<table><tr><th>session</th><th>name</th><th>target</th><th>state</th><th>started</th>"
                "<th>samples</th><th>results</th></tr>\n";
        for (const auto& s : sessions) {
            std::string target = s.target_command_line.empty() ? "" : s.target_command_line.front();
            if (target.empty() && !s.spec.command.empty()) target = s.spec.command.front();
            fmt::format_to(std::back_inserter(html),
                           "<tr><td><a href=\"/sessions/{id}\">{id}</a></td><td>{name}</td><td>{pid} {target}</td>"
                           "<td class=\"{state}\">{state}</td><td>{created}</td><td>{samples}</td>"
                           "<td>{results}</td></tr>\n",
                           fmt::arg("id", s.id), fmt::arg("name", render::xml_escaped(s.spec.name)),
                           fmt::arg("pid", s.target_pid), fmt::arg("target", render::xml_escaped(target)),
                           fmt::arg("state", daemon::to_string(s.state)), fmt::arg("created", daemon::iso8601(s.created)),
                           fmt::arg("samples", s.samples), fmt::arg("results", result_links(s.id)));
        }
        html += "</table>\n";
    }
    html += "</body></html>\n";
    return html;
}

}  // namespace pyprofd::api
