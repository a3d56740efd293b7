// The console's page as the server writes it: what reads without JavaScript (the
// processes of GET /processes's contract, the sessions with links to every format,
// every name escaped), and the page for a browser the daemon cannot identify
// (no data, the refusal's status, headers and reason kept).
#include <doctest/doctest.h>

#include "api/console_page.hpp"
#include "api/problem.hpp"

using namespace pyprofd;
using namespace pyprofd::api;

namespace {

daemon::SessionInfo session(std::string id, std::string name, daemon::SessionState state) {
    daemon::SessionInfo s;
    s.id = std::move(id);
    s.spec.name = std::move(name);
    s.state = state;
    s.target_pid = 4242;
    s.target_command_line = {"/usr/bin/python3", "app.py"};
    return s;
}

}  // namespace

TEST_CASE("console page: processes and sessions read without a script, names escaped, links to every format") {
    auto running = session("0123456789abcdef", "<b>live</b>", daemon::SessionState::running);
    running.samples = 150;
    running.elapsed_s = 1.0;
    running.spec.rate_hz = 200;
    auto done = session("fedcba9876543210", "done", daemon::SessionState::completed);
    done.samples = 90;
    done.samples_expected = 100;
    done.failed_samples = 2;
    auto processes = nlohmann::json::parse(R"({"processes": [{"pid": 77, "user": "alice", "uid": 1000,
        "python_version": null, "command_line": ["python3", "<script>.py"], "threads": 3,
        "started": "2026-11-26T08:00:00Z", "container": true, "pid_namespace": true, "mount_namespace": false,
        "executable": "/usr/bin/python3.11"}], "skipped": 2})");
    auto page = console_page({.sessions = {running, done}, .processes = processes});
    CHECK(page.find("<tr data-pid=\"77\"><td>77</td><td>alice</td><td>?</td>") != std::string::npos);
    CHECK(page.find("python3 &lt;script&gt;.py") != std::string::npos);
    CHECK(page.find("<script>.py") == std::string::npos);
    CHECK(page.find("container, own PIDs") != std::string::npos);
    CHECK(page.find("2 more looked like Python but could not be read.") != std::string::npos);
    CHECK(page.find("&lt;b&gt;live&lt;/b&gt;") != std::string::npos);
    for (auto format : {"flame.svg", "folded", "speedscope.json", "profile.pb.gz"}) {
        CHECK(page.find(std::string("href=\"/sessions/0123456789abcdef/") + format + "\"") != std::string::npos);
        CHECK(page.find(std::string("href=\"/sessions/fedcba9876543210/") + format + "\"") != std::string::npos);
    }
    CHECK(page.find("150 samples, \u224875.0% on schedule") != std::string::npos);  // estimated while it runs
    running.samples_expected = 160;  // the session's own count so far
    CHECK(console_page({.sessions = {running}, .processes = processes}).find("150 samples, \u224893.8% on schedule") !=
          std::string::npos);
    CHECK(page.find("90 samples, 90.0% on schedule, 2 errors") != std::string::npos);
    CHECK(page.find("data-signed-out=\"false\"") != std::string::npos);
    CHECK(page.find("<script src=\"/console.js\" defer></script>") != std::string::npos);
    CHECK(page.find("<script>") == std::string::npos);  // nothing inline: the policy would refuse it
    CHECK(page.find(" style=") == std::string::npos);
    CHECK(page.find(" onclick=") == std::string::npos);

    auto empty = console_page({.sessions = {}, .processes = nlohmann::json{{"processes", nlohmann::json::array()}, {"skipped", 0}}});
    CHECK(empty.find("No Python process you may profile.") != std::string::npos);
    CHECK(empty.find("<p id=\"sessions-note\">No sessions yet.</p>") != std::string::npos);
}

TEST_CASE("console page: a browser the daemon cannot tell gets the page without data, with the 401 kept") {
    auto refusal = problem(http::status::unauthorized, "Unauthorized", "a caller on another host (10.0.0.9:5000) needs a token");
    refusal.set(http::field::www_authenticate, "Bearer realm=\"pyprofd\"");
    auto page = console_without_caller(std::move(refusal));
    CHECK(page.result() == http::status::unauthorized);
    CHECK(page[http::field::www_authenticate] == "Bearer realm=\"pyprofd\"");
    CHECK(page[http::field::content_type] == "text/html; charset=utf-8");
    CHECK(page.body().find("data-signed-out=\"true\"") != std::string::npos);
    CHECK(page.body().find(">a caller on another host (10.0.0.9:5000) needs a token</p>") != std::string::npos);
    CHECK(page.body().find("data-id=") == std::string::npos);
    CHECK(page.body().find("data-pid=") == std::string::npos);

    Request browser{http::verb::get, "/", 11};
    browser.set(http::field::accept, "text/html,application/xhtml+xml,*/*;q=0.8");
    CHECK(opens_console(browser));
    Request curl{http::verb::get, "/", 11};
    curl.set(http::field::accept, "*/*");
    CHECK_FALSE(opens_console(curl));
    Request other{http::verb::get, "/sessions", 11};
    other.set(http::field::accept, "text/html");
    CHECK_FALSE(opens_console(other));
}
