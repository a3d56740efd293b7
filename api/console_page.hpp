#pragma once
// GET /: the console, as the server writes it. It reads without JavaScript: the
// caller's Python processes and sessions, each session with links to every format.
// Its script (api/console/console.js, served by api/console_assets) adds what
// needs one: starting, stopping, deleting, the live view, comparing two sessions,
// and a token for a browser the daemon cannot identify.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/http_types.hpp"
#include "daemon/session_info.hpp"

namespace pyprofd::api {

struct ConsoleContent {
    std::vector<daemon::SessionInfo> sessions;  // newest first
    // GET /processes's body ({"processes": [...], "skipped": N}); none: not listed.
    std::optional<nlohmann::json> processes;
};

std::string console_page(const ConsoleContent& content);

// The console for a browser the daemon cannot tell (another host, no token): the
// refusal's status and headers kept (401, WWW-Authenticate), its body the page
// with no data and the refusal's detail, where the script asks for a token.
Response console_without_caller(Response refusal);

// Whether a request that could not be identified is a browser opening the console
// (GET / that takes HTML), which console_without_caller answers; other clients
// keep their problem+json.
bool opens_console(const Request& request);

}  // namespace pyprofd::api
