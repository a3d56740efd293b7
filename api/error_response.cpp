#include "api/error_response.hpp"

#include "api/problem.hpp"

namespace pyprofd::api {

http::status status_of(daemon::Error::Kind kind) {
    using K = daemon::Error::Kind;
    switch (kind) {
        case K::invalid: return http::status::bad_request;
        case K::not_found: return http::status::not_found;
        case K::not_python: return http::status::unprocessable_entity;
        case K::not_permitted: return http::status::forbidden;
        case K::conflict: return http::status::conflict;
        case K::too_many: return http::status::too_many_requests;
        case K::unavailable: return http::status::service_unavailable;
        case K::internal: return http::status::internal_server_error;
    }
    return http::status::internal_server_error;
}

std::string title_of(daemon::Error::Kind kind, RequestPart part) {
    using K = daemon::Error::Kind;
    switch (kind) {
        case K::invalid:
            switch (part) {
                case RequestPart::field: return "Invalid field";
                case RequestPart::body: return "Invalid request body";
                case RequestPart::query: return "Invalid query parameter";
                case RequestPart::path: return "Invalid path";
            }
            return "Invalid request";
        case K::not_found: return "Not found";
        case K::not_python: return "Not a readable Python process";
        case K::not_permitted: return "Not permitted";
        case K::conflict: return "Conflict";
        case K::too_many: return "Too many running sessions";
        case K::unavailable: return "Unavailable for now";
        case K::internal: return "Internal error";
    }
    return "Error";
}

Response error_response(const daemon::Error& error, RequestPart part) {
    auto response = problem(status_of(error.kind), title_of(error.kind, part), error.message, error.field);
    // Not now: a client that retries on its own waits a little first.
    if (error.kind == daemon::Error::Kind::unavailable) response.set(http::field::retry_after, "10");
    return response;
}

}  // namespace pyprofd::api
