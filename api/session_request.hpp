#pragma once
// The body of POST /sessions into a SessionSpec: every field checked for its type
// and known name, so that a mistake gets a 400 naming the field rather than a
// session that does something else. Ranges set by the configuration are checked
// by the session manager.
#include <expected>
#include <string>
#include <string_view>

#include "daemon/session_info.hpp"

namespace pyprofd::api {

struct RequestError {
    std::string field;  // empty: the body as a whole
    std::string message;
};

std::expected<daemon::SessionSpec, RequestError> parse_session_request(std::string_view body);

}  // namespace pyprofd::api
