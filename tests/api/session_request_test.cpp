#include <doctest/doctest.h>

#include "api/session_request.hpp"

using pyprofd::api::parse_session_request;
using Kind = pyprofd::daemon::Error::Kind;

namespace {

// The field at fault and the message, of a body that is refused.
std::pair<std::string, std::string> refusal(std::string_view body) {
    auto spec = parse_session_request(body);
    REQUIRE_FALSE(spec);
    CHECK(spec.error().kind == Kind::invalid);
    return {spec.error().field, spec.error().message};
}

}  // namespace

TEST_CASE("session request: every field read, with its type") {
    auto spec = parse_session_request(R"({"command": ["python3", "app.py"], "env": {"A": "1"}, "cwd": "/srv",
        "rate_hz": 250, "duration_s": null, "name": "n", "idle": true, "gil_only": true, "threads": true,
        "function": true, "blocking": true, "subprocesses": true})");
    REQUIRE(spec);
    CHECK(spec->command == std::vector<std::string>{"python3", "app.py"});
    CHECK(spec->env.at("A") == "1");
    CHECK(spec->cwd == "/srv");
    CHECK(spec->rate_hz == 250);
    CHECK_FALSE(spec->duration_s);
    CHECK(spec->name == "n");
    CHECK(spec->aggregation.include_idle);
    CHECK(spec->aggregation.gil_only);
    CHECK(spec->aggregation.per_thread);
    CHECK(spec->aggregation.by_function);
    CHECK(spec->blocking);
    CHECK(spec->subprocesses);
    auto pid = parse_session_request(R"({"pid": 42, "duration_s": 2.5})");
    REQUIRE(pid);
    CHECK(pid->pid == 42);
    CHECK(pid->duration_s == 2.5);
    CHECK_FALSE(pid->subprocesses);  // one process unless asked
}

TEST_CASE("session request: a refusal names the field at fault and says why") {
    CHECK(refusal("{not json").first.empty());
    CHECK(refusal("[1]") == std::pair<std::string, std::string>{"", "the body must be a JSON object"});
    CHECK(refusal(R"({"pid": 0})").first == "pid");
    CHECK(refusal(R"({"command": []})").first == "command");
    CHECK(refusal(R"({"command": [""]})").second == "command's program name is empty");
    CHECK(refusal(R"({"command": ["x"], "env": {"A": 1}})").second == "env: the value of A must be a string");
    CHECK(refusal(R"({"command": ["x"], "cwd": "rel"})").first == "cwd");
    CHECK(refusal(R"({"pid": 1, "rate_hz": "fast"})").first == "rate_hz");
    CHECK(refusal(R"({"pid": 1, "duration_s": "long"})").first == "duration_s");
    CHECK(refusal(R"({"pid": 1, "name": 5})").first == "name");
    CHECK(refusal(R"({"pid": 1, "threads": "yes"})") ==
          std::pair<std::string, std::string>{"threads", "threads must be true or false"});
    CHECK(refusal(R"({"pid": 1, "subprocesses": 1})") ==
          std::pair<std::string, std::string>{"subprocesses", "subprocesses must be true or false"});
    CHECK(refusal(R"({"pid": 1, "rate": 5})").second.starts_with("unknown field 'rate'"));
    CHECK(refusal(R"({})").first == "pid");
    CHECK(refusal(R"({"pid": 1, "command": ["x"]})").second == "give pid or command, not both");
    CHECK(refusal(R"({"pid": 1, "env": {}, "cwd": "/"})").first == "cwd");
}
