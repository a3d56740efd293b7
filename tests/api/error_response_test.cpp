#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "api/error_response.hpp"

using namespace pyprofd;
using api::http::status;
using Kind = daemon::Error::Kind;

TEST_CASE("errors: each kind is one HTTP status, with its title") {
    const std::pair<Kind, status> expected[] = {
        {Kind::invalid, status::bad_request},         {Kind::not_found, status::not_found},
        {Kind::not_python, status::unprocessable_entity}, {Kind::not_permitted, status::forbidden},
        {Kind::conflict, status::conflict},            {Kind::too_many, status::too_many_requests},
        {Kind::unavailable, status::service_unavailable}, {Kind::internal, status::internal_server_error},
    };
    // Every kind is listed above: the last enumerator is internal.
    CHECK(static_cast<int>(Kind::internal) + 1 == static_cast<int>(std::size(expected)));
    for (auto [kind, code] : expected) {
        CAPTURE(static_cast<int>(kind));
        CHECK(api::status_of(kind) == code);
        CHECK_FALSE(api::title_of(kind).empty());
    }
    CHECK(api::title_of(Kind::too_many) == "Too many running sessions");
    CHECK(api::title_of(Kind::not_python) == "Not a readable Python process");
}

TEST_CASE("errors: an invalid value's title says where in the request it was") {
    CHECK(api::title_of(Kind::invalid) == "Invalid field");
    CHECK(api::title_of(Kind::invalid, api::RequestPart::body) == "Invalid request body");
    CHECK(api::title_of(Kind::invalid, api::RequestPart::query) == "Invalid query parameter");
    CHECK(api::title_of(Kind::invalid, api::RequestPart::path) == "Invalid path");
    CHECK(api::title_of(Kind::not_found, api::RequestPart::path) == "Not found");
}

TEST_CASE("errors: the response is problem+json with the status, the message and the field") {
    auto response = api::error_response({Kind::invalid, "rate_hz must be from 1 to 1000", "rate_hz"});
    CHECK(response.result() == status::bad_request);
    CHECK(response[api::http::field::content_type] == "application/problem+json");
    auto body = nlohmann::json::parse(response.body());
    CHECK(body["status"] == 400);
    CHECK(body["title"] == "Invalid field");
    CHECK(body["detail"] == "rate_hz must be from 1 to 1000");
    CHECK(body["field"] == "rate_hz");
    CHECK_FALSE(nlohmann::json::parse(api::error_response({Kind::conflict, "ended"}).body()).contains("field"));
    CHECK(api::error_response({Kind::unavailable, "out of descriptors"})[api::http::field::retry_after] == "10");
    CHECK(response[api::http::field::retry_after].empty());
}

TEST_CASE("errors: the sampler's, mapped once for users: gone 404, not to be read 403, not now 503, no Python it "
          "reads 422") {
    using sampler::ErrorKind;
    auto status_for = [](ErrorKind kind) {
        auto error = daemon::process_error(42, {kind, "why"});
        CHECK(error.field == "pid");
        return api::status_of(error.kind);
    };
    CHECK(status_for(ErrorKind::no_such_process) == status::not_found);
    CHECK(daemon::process_error(42, {ErrorKind::no_such_process, "it exited"}).message == "no process 42: it exited");
    CHECK(status_for(ErrorKind::permission_denied) == status::forbidden);
    auto no_room = daemon::process_error(42, {ErrorKind::out_of_descriptors, "why"});
    CHECK(api::status_of(no_room.kind) == status::service_unavailable);
    CHECK(no_room.field.empty());  // not the pid's fault
    for (auto kind : {ErrorKind::not_python, ErrorKind::unsupported_version, ErrorKind::read_failed, ErrorKind::bad_data,
                      ErrorKind::io, ErrorKind::program_replaced, ErrorKind::target_unresponsive})
        CHECK(status_for(kind) == status::unprocessable_entity);
}
