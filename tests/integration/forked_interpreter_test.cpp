// A Python forked without the interpreter's after-fork hook (the C library's fork
// called directly, as uWSGI forks its workers): its thread state still holds the
// parent's native thread id, a task of another process. pyprofd must find the
// child's own task instead, on every interpreter.
#include <doctest/doctest.h>

#include <regex>

#include "tests/integration/dump_support.hpp"

using namespace pyprofd::tests;
using nlohmann::json;

TEST_CASE("a child forked without the after-fork hook is shown with its own TID and activity, not its parent's") {
    auto file = target_path("forks_without_hook.py");
    int spin = line_of(file, "child-spin");
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target parent(py, {file});
            REQUIRE(parent.ready);
            std::smatch m;
            const auto output = parent.child.output();
            REQUIRE_MESSAGE(std::regex_search(output, m, std::regex("CHILD (\\d+)")), output);
            pid_t child = std::stoi(m[1]);
            auto dump = dump_until(child, [&](const json& d) {
                return d["threads"].size() == 1 && d["threads"][0]["activity"] == "running" &&
                       !d["threads"][0]["frames"].empty() && d["threads"][0]["frames"][0]["line"] == spin;
            });
            REQUIRE(dump["threads"].size() == 1);
            const auto& t = dump["threads"][0];
            INFO(t.dump());
            CHECK(t["native_id"] == child);  // not the parent's PID
            CHECK(t["namespace_tid"].is_null());
            CHECK(t["activity"] == "running");
            CHECK(t["frames"][0]["function"] == "spin_in_child");
            CHECK(t["frames"][0]["line"] == spin);
            // The parent is read as ever.
            auto of_parent = run_dump(parent.pid());
            REQUIRE(of_parent.exit_code == 0);
            CHECK(thread_with_id(json::parse(of_parent.out), parent.pid()));
        }
    }
}
