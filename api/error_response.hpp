#pragma once
// A daemon::Error as an HTTP response: the one place where an error's kind
// becomes a status (and a problem's title). Failures only HTTP has (a wrong
// method, no credentials, a body that is not JSON by its type) are answered where
// they happen, with problem().
#include <string>

#include "api/http_types.hpp"
#include "daemon/error.hpp"

namespace pyprofd::api {

// Where in the request an invalid value was: the problem's title says so.
enum class RequestPart { field, body, query, path };

http::status status_of(daemon::Error::Kind kind);
std::string title_of(daemon::Error::Kind kind, RequestPart part = RequestPart::field);

Response error_response(const daemon::Error& error, RequestPart part = RequestPart::field);

}  // namespace pyprofd::api
