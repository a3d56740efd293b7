#include "api/console_page.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "daemon/session_json.hpp"
#include "render/output_format.hpp"
#include "render/xml_text.hpp"

namespace pyprofd::api {
namespace {

using render::xml_escaped;

// The formats as the script needs them to link a session it lists: [[url_name, label], ...].
std::string formats_json() {
    auto formats = nlohmann::json::array();
    for (const auto& format : render::output_formats())
        formats.push_back({std::string(format.url_name), std::string(format.label)});
    return formats.dump();
}

// A link to the session's profile in every format.
std::string result_links(const std::string& id) {
    std::string links;
    for (const auto& format : render::output_formats())
        links += fmt::format("<a href=\"/sessions/{}/{}\">{}</a> ", id, format.url_name, format.label);
    return links;
}

std::string target_text(const daemon::SessionInfo& s) {
    std::string target = s.target_command_line.empty() ? "" : s.target_command_line.front();
    if (target.empty() && !s.spec.command.empty()) target = s.spec.command.front();
    return s.target_pid ? fmt::format("{} {}", s.target_pid, target) : target;
}

// samples, the share of the schedule's ticks that got one, and errors: as the script
// writes them. The ticks are counted at the end; while it runs, the session's count
// so far (samples_expected) is an estimate from the time, marked as such.
std::string progress_text(const daemon::SessionInfo& s) {
    std::string text = fmt::format("{} samples", s.samples);
    const auto samples = static_cast<double>(s.samples);
    const bool running = s.state == daemon::SessionState::running;
    // A session saved by an older daemon has no count while it runs: the time says.
    const double ticks = s.samples_expected > 0 ? static_cast<double>(s.samples_expected)
                         : running               ? s.elapsed_s * s.spec.rate_hz
                                                 : 0;
    if (ticks >= 1)
        text += fmt::format(", {}{:.1f}% on schedule", running ? "\u2248" : "", 100.0 * std::min(samples, ticks) / ticks);
    auto errors = s.failed_samples + s.thread_errors;
    if (errors > 0) text += fmt::format(", {} errors", errors);
    return text;
}

std::string session_row(const daemon::SessionInfo& s) {
    const auto state = daemon::to_string(s.state);
    return fmt::format(
        "<tr data-id=\"{id}\" data-state=\"{state}\"><td><a href=\"/sessions/{id}\">{id}</a><br>{name}</td>"
        "<td class=\"command\">{target}</td><td class=\"state {state}\">{state}</td><td>{created}</td>"
        "<td>{progress}</td><td class=\"links\">{links}</td>"
        "<td class=\"needs-script actions\">"
        "<button type=\"button\" data-action=\"live\">{view}</button> "
        "<button type=\"button\" data-action=\"stop\"{stop_hidden}>stop</button> "
        "<button type=\"button\" data-action=\"delete\">delete</button><br>"
        "<label><input type=\"radio\" name=\"before\" value=\"{id}\"> before</label> "
        "<label><input type=\"radio\" name=\"after\" value=\"{id}\"> after</label></td></tr>\n",
        fmt::arg("id", s.id), fmt::arg("name", xml_escaped(s.spec.name)), fmt::arg("target", xml_escaped(target_text(s))),
        fmt::arg("state", state), fmt::arg("created", daemon::iso8601(s.created)),
        fmt::arg("progress", progress_text(s)), fmt::arg("links", result_links(s.id)),
        fmt::arg("view", s.state == daemon::SessionState::running ? "live" : "view"),
        fmt::arg("stop_hidden", s.state == daemon::SessionState::running ? "" : " hidden"));
}

std::string sessions_part(const std::vector<daemon::SessionInfo>& sessions) {
    std::string rows;
    for (const auto& s : sessions) rows += session_row(s);
    return rows;
}

// Where a process runs apart: another PID or mount namespace (a container).
std::string namespaces_text(const nlohmann::json& p) {
    std::vector<std::string> parts;
    if (p.value("container", false)) parts.push_back("container");
    if (p.value("pid_namespace", false)) parts.push_back("own PIDs");
    if (p.value("mount_namespace", false)) parts.push_back("own mounts");
    return fmt::format("{}", fmt::join(parts, ", "));
}

std::string process_row(const nlohmann::json& p) {
    std::string command;
    for (const auto& word : p.value("command_line", nlohmann::json::array()))
        if (word.is_string()) command += (command.empty() ? "" : " ") + word.get<std::string>();
    const auto version = p.contains("python_version") && p["python_version"].is_string()
                             ? p["python_version"].get<std::string>()
                             : std::string("?");
    const auto pid = p.value("pid", 0);
    return fmt::format(
        "<tr data-pid=\"{pid}\"><td>{pid}</td><td>{user}</td><td>{python}</td><td class=\"command\">{command}</td>"
        "<td class=\"num\">{threads}</td><td>{started}</td><td>{namespaces}</td>"
        "<td class=\"needs-script\"><button type=\"button\" data-action=\"profile\">profile</button></td></tr>\n",
        fmt::arg("pid", pid), fmt::arg("user", xml_escaped(p.value("user", ""))), fmt::arg("python", xml_escaped(version)),
        fmt::arg("command", xml_escaped(command)), fmt::arg("threads", p.value("threads", 0)),
        fmt::arg("started", xml_escaped(p.value("started", ""))), fmt::arg("namespaces", namespaces_text(p)));
}

// The rows, and a note: none found, how many could not be read, or why there is no list.
std::pair<std::string, std::string> processes_part(const std::optional<nlohmann::json>& processes) {
    if (!processes) return {"", ""};
    std::string rows;
    const auto listed = processes->value("processes", nlohmann::json::array());
    for (const auto& p : listed) rows += process_row(p);
    std::string note = listed.empty() ? "No Python process you may profile." : "";
    if (auto skipped = processes->value("skipped", 0); skipped > 0)
        note += fmt::format("{}{} more looked like Python but could not be read.", note.empty() ? "" : " ", skipped);
    return {rows, note};
}

// The page. Empty parts are filled by the script (a caller not yet known).
std::string page(const std::string& process_rows, const std::string& processes_note, const std::string& session_rows,
                 std::string_view sign_in_reason) {
    return fmt::format(
        R"html(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pyprofd</title>
<link rel="stylesheet" href="/console.css">
<script src="/console.js" defer></script>
</head>
<body data-formats="{formats}" data-signed-out="{signed_out}">
<header><h1>pyprofd</h1>
<nav><a href="/openapi.yaml">API</a> <a href="/metrics">metrics</a></nav></header>
<p id="sign-in-reason" class="notice"{reason_hidden}>{reason}</p>
<form id="token-form" class="panel needs-script" method="post" autocomplete="off" hidden>
<label for="token">Token</label> <input id="token" type="password" spellcheck="false" autocomplete="off">
<button type="submit">use token</button> <button type="button" id="forget-token">forget</button>
<p class="hint">Kept in this tab only, sent as <code>Authorization: Bearer</code>; never in a URL or a cookie.</p>
</form>
<p id="message" role="status" hidden></p>
<main>
<section id="processes">
<h2>Python processes</h2>
<div class="scroll"><table>
<thead><tr><th>pid</th><th>user</th><th>Python</th><th>command line</th><th>threads</th><th>started</th><th>runs in</th><th class="needs-script"></th></tr></thead>
<tbody>
{process_rows}</tbody></table></div>
<p id="processes-note">{processes_note}</p>
</section>
<section id="start" class="panel needs-script" hidden>
<h2>Profile <span id="start-target"></span></h2>
<form id="start-form">
<input type="hidden" name="pid">
<p><label>rate <input name="rate_hz" type="number" min="1" step="any" value="100" required> Hz</label>
<label>duration <input name="duration_s" type="number" min="0.1" step="any" value="10"> s</label>
<label><input name="until_stopped" type="checkbox"> until stopped</label></p>
<p class="options"><label><input type="checkbox" name="idle"> idle threads</label>
<label><input type="checkbox" name="gil_only"> GIL holder only</label>
<label><input type="checkbox" name="threads"> a root per thread</label>
<label><input type="checkbox" name="function"> by function (no lines)</label>
<label><input type="checkbox" name="blocking"> blocking (pause the threads)</label>
<label><input type="checkbox" name="subprocesses"> subprocesses</label></p>
<p><label>name <input name="name" maxlength="200"></label>
<button type="submit">start</button> <button type="button" id="start-cancel">cancel</button></p>
</form>
</section>
<section id="live" class="needs-script" hidden>
<h2><span id="live-heading">Live</span>: <span id="live-title"></span></h2>
<div class="live-layout">
<div class="graph-box">
<form id="live-search-form" class="graph-tools"><label>search <input id="live-search" type="search" placeholder="text or /regular expression/"></label>
<button type="submit">find</button> <button type="button" id="live-search-reset">clear</button>
<span id="live-redrawn" class="hint"></span></form>
<div id="live-graph" class="graph"></div>
</div>
<div class="progress-box">
<dl id="live-progress"></dl>
<p><button type="button" id="live-stop">stop</button> <button type="button" id="live-close">close</button></p>
<p id="live-links" class="links"></p>
</div>
</div>
</section>
<section id="sessions">
<h2>Sessions</h2>
<div class="scroll"><table>
<thead><tr><th>session</th><th>target</th><th>state</th><th>started</th><th>progress</th><th>results</th><th class="needs-script"></th></tr></thead>
<tbody>
{session_rows}</tbody></table></div>
<p id="sessions-note"{sessions_note_hidden}>No sessions yet.</p>
<p class="needs-script"><button type="button" id="compare-button">compare before &#8594; after</button></p>
</section>
<section id="compare" class="needs-script" hidden>
<h2>Compare <span id="compare-title"></span></h2>
<div id="compare-graph" class="graph"></div>
<p id="compare-links" class="links"></p>
<pre id="compare-table"></pre>
</section>
</main>
<footer><p>From a shell: <code>curl -X POST http://HOST/sessions -d '{{"pid": 4242, "rate_hz": 1000, "duration_s": 20}}'</code></p></footer>
</body></html>
)html",
        fmt::arg("formats", xml_escaped(formats_json())), fmt::arg("signed_out", sign_in_reason.empty() ? "false" : "true"),
        fmt::arg("reason", xml_escaped(sign_in_reason)), fmt::arg("reason_hidden", sign_in_reason.empty() ? " hidden" : ""),
        fmt::arg("process_rows", process_rows), fmt::arg("processes_note", xml_escaped(processes_note)),
        fmt::arg("session_rows", session_rows),
        fmt::arg("sessions_note_hidden", session_rows.empty() && sign_in_reason.empty() ? "" : " hidden"));
}

}  // namespace

std::string console_page(const ConsoleContent& content) {
    auto [process_rows, processes_note] = processes_part(content.processes);
    return page(process_rows, processes_note, sessions_part(content.sessions), "");
}

Response console_without_caller(Response refusal) {
    auto problem = nlohmann::json::parse(refusal.body(), nullptr, false);
    std::string reason = problem.is_object() ? problem.value("detail", "") : "";
    if (reason.empty()) reason = "this daemon cannot tell who you are";
    refusal.set(http::field::content_type, "text/html; charset=utf-8");
    refusal.body() = page("", "", "", reason);
    return refusal;
}

bool opens_console(const Request& request) {
    if (request.method() != http::verb::get && request.method() != http::verb::head) return false;
    if (request.target() != "/") return false;
    auto accept = request[http::field::accept];
    return std::string_view(accept.data(), accept.size()).find("text/html") != std::string_view::npos;
}

}  // namespace pyprofd::api
