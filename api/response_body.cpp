#include "api/response_body.hpp"

namespace pyprofd::api {

Response with_body(http::status status, std::string content_type, std::string body) {
    Response response{status, 11};
    response.set(http::field::content_type, content_type);
    response.body() = std::move(body);
    return response;
}

Response json_response(http::status status, const nlohmann::json& body) {
    return with_body(status, "application/json",
                     body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace pyprofd::api
