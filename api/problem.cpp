#include "api/problem.hpp"

#include <nlohmann/json.hpp>

namespace pyprofd::api {

Response problem(http::status status, const std::string& title, const std::string& detail, const std::string& field) {
    nlohmann::json body{{"type", "about:blank"},
                        {"title", title},
                        {"status", static_cast<int>(status)},
                        {"detail", detail}};
    if (!field.empty()) body["field"] = field;
    Response response{status, 11};
    response.set(http::field::content_type, "application/problem+json");
    response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    return response;
}

}  // namespace pyprofd::api
