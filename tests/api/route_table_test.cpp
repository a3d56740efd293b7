#include <doctest/doctest.h>

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <string>

#include "api/operations.hpp"
#include "api/path_parameters.hpp"
#include "api/route_table.hpp"

using namespace pyprofd::api;

namespace {

// "GET /sessions/{id}" for every operation openapi.yaml lists.
std::multiset<std::string> contract_operations() {
    auto doc = YAML::LoadFile(std::string(PYPROFD_SOURCE_DIR) + "/openapi.yaml");
    const std::set<std::string> methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
    std::multiset<std::string> operations;
    for (const auto& path : doc["paths"])
        for (const auto& item : path.second) {
            auto method = item.first.as<std::string>();
            if (!methods.contains(method)) continue;  // parameters, summary, ...
            for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            operations.insert(method + " " + path.first.as<std::string>());
        }
    return operations;
}

std::string operation_of(const Route& route) { return std::string(http::to_string(route.method)) + " " + route.path; }

// The template with a value each parameter may take.
std::string example_path(std::string path) {
    for (auto [name, value] : std::map<std::string, std::string>{
             {"{id}", "0123456789abcdef"}, {"{other}", "fedcba9876543210"}, {"{pid}", "42"}})
        if (auto at = path.find(name); at != std::string::npos) path.replace(at, name.size(), value);
    return path;
}

}  // namespace

TEST_CASE("routes: every operation of openapi.yaml has exactly one route, and every route is an operation") {
    std::multiset<std::string> routes;
    for (const auto& route : operations()) {
        routes.insert(operation_of(route));
        CHECK_MESSAGE(static_cast<bool>(route.handler), operation_of(route));
    }
    auto contract = contract_operations();
    REQUIRE(contract.size() >= 16);
    for (const auto& operation : contract) CHECK_MESSAGE(routes.count(operation) == 1, operation);
    for (const auto& operation : routes) CHECK_MESSAGE(contract.count(operation) == 1, operation);
}

TEST_CASE("routes: a request finds its route and its path's parameters; HEAD takes GET's") {
    for (const auto& route : operations()) {
        auto path = example_path(route.path);
        CAPTURE(path);
        auto match = match_route(operations(), route.method, path);
        REQUIRE(match.route == &route);
        CHECK(match.allow.empty());
        if (route.path.find("{id}") != std::string::npos) CHECK(match.parameters.at("id") == "0123456789abcdef");
        if (route.path.find("{other}") != std::string::npos) CHECK(match.parameters.at("other") == "fedcba9876543210");
        if (route.path.find("{pid}") != std::string::npos) CHECK(match.parameters.at("pid") == "42");
        if (route.method == http::verb::get) CHECK(match_route(operations(), http::verb::head, path).route == &route);
    }
    // Empty segments count for nothing, as they always have.
    CHECK(match_route(operations(), http::verb::get, "//sessions//0123456789abcdef/").route ==
          match_route(operations(), http::verb::get, "/sessions/0123456789abcdef").route);
}

TEST_CASE("routes: a known path with another method is 405 with the methods it takes; an unknown path is 404") {
    auto allow = [](http::verb method, std::string_view path) {
        auto match = match_route(operations(), method, path);
        CHECK(match.route == nullptr);
        return match.allow;
    };
    CHECK(allow(http::verb::put, "/sessions") == "GET, POST");
    CHECK(allow(http::verb::post, "/sessions/0123456789abcdef") == "GET, DELETE");
    CHECK(allow(http::verb::get, "/sessions/0123456789abcdef/stop") == "POST");
    CHECK(allow(http::verb::delete_, "/") == "GET");
    CHECK(allow(http::verb::post, "/processes/42/stacks") == "GET");
    CHECK(allow(http::verb::post, "/sessions/0123456789abcdef/profile.pb.gz") == "GET");
    CHECK(allow(http::verb::unknown, "/healthz") == "GET");
    CHECK(allow(http::verb::get, "/nothing-here") == "");
    CHECK(allow(http::verb::get, "/sessions/0123456789abcdef/flame.png") == "");
    CHECK(allow(http::verb::get, "/sessions/0123456789abcdef/diff/.svg") == "");  // {other} is never empty
    CHECK(allow(http::verb::get, "/sessions/a/b/c/d") == "");
}

TEST_CASE("path parameters: read once, a session id that cannot be one is not found, a pid that is no number invalid") {
    auto good = path_parameters({{"id", "0123456789abcdef"}, {"other", "fedcba9876543210"}, {"pid", "42"}});
    REQUIRE(good);
    CHECK(good->id == "0123456789abcdef");
    CHECK(good->other == "fedcba9876543210");
    CHECK(good->pid == 42);
    for (auto name : {"id", "other"}) {
        auto bad = path_parameters({{name, ".."}});
        REQUIRE_FALSE(bad);
        CHECK(bad.error().kind == pyprofd::daemon::Error::Kind::not_found);
        CHECK(bad.error().message == "no session '..' (ids are 16 hex digits)");
    }
    for (auto text : {"abc", "0", "-1", "2147483648", ""}) {
        auto bad = path_parameters({{"pid", text}});
        REQUIRE_FALSE(bad);
        CHECK(bad.error().kind == pyprofd::daemon::Error::Kind::invalid);
        CHECK(bad.error().field == "pid");
    }
}
