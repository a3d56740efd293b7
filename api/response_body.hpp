#pragma once
// A response with a body: of a content type, or JSON.
#include <nlohmann/json.hpp>
#include <string>

#include "api/http_types.hpp"

namespace pyprofd::api {

Response with_body(http::status status, std::string content_type, std::string body);
// Indented, and a string that is not UTF-8 has its bad bytes replaced.
Response json_response(http::status status, const nlohmann::json& body);

}  // namespace pyprofd::api
