#pragma once
// The body of POST /sessions into a SessionSpec: every field checked for its type
// and known name, so that a mistake gets a 400 naming the field rather than a
// session that does something else. Ranges set by the configuration are checked
// by the session manager.
#include <string>
#include <string_view>

#include "daemon/error.hpp"
#include "daemon/session_info.hpp"

namespace pyprofd::api {

// An error is `invalid`, with the field at fault (none: the body as a whole).
daemon::Result<daemon::SessionSpec> parse_session_request(std::string_view body);

}  // namespace pyprofd::api
