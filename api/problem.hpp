#pragma once
// Errors as RFC 9457 problem details (application/problem+json): a title that
// names the kind of error, a detail a person can act on, and for a bad field, the
// field.
#include <string>

#include "api/http_types.hpp"

namespace pyprofd::api {

Response problem(http::status status, const std::string& title, const std::string& detail,
                 const std::string& field = {});

}  // namespace pyprofd::api
