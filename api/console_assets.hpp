#pragma once
// The console's script and style (api/console/console.js and console.css), embedded
// at build time as openapi.yaml is, and served by the daemon itself: the console
// fetches nothing from anywhere else. They need no caller: they are the same for
// everyone and hold nothing of the daemon's, and a browser that has to send a
// token needs the script before it can.
#include <string_view>

#include "api/call.hpp"

namespace pyprofd::api {

Response get_console_script(const Call& call);  // GET /console.js
Response get_console_style(const Call& call);   // GET /console.css

// Whether the request target is one of them.
bool is_console_asset(std::string_view target);

}  // namespace pyprofd::api
