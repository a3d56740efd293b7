#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "render/differential.hpp"

using namespace pyprofd::render;

TEST_CASE("totals at the same paths: matched by label, whatever the order frames were first seen in") {
    Profile before, after;
    before.add_labels(std::vector<std::string>{"main", "b"}, 7);
    before.add_labels(std::vector<std::string>{"main", "a", "x"}, 3);
    before.add_labels(std::vector<std::string>{"other"}, 2);
    after.add_labels(std::vector<std::string>{"main", "a", "x"}, 1);
    after.add_labels(std::vector<std::string>{"main", "a", "y"}, 1);
    after.add_labels(std::vector<std::string>{"x"}, 4);  // same label, another path: no match
    auto totals = totals_at_same_paths(after, before);
    REQUIRE(totals.size() == after.node_count());
    CHECK(totals[Profile::root] == 12);
    auto path_total = [&](std::vector<std::string> labels) {
        NodeId at = Profile::root;
        for (const auto& l : labels) {
            bool found = false;
            for (NodeId c : after.children(at))
                if (after.label(after.node(c).frame) == l) {
                    at = c;
                    found = true;
                }
            REQUIRE(found);
        }
        return totals[at];
    };
    CHECK(path_total({"main"}) == 10);
    CHECK(path_total({"main", "a"}) == 3);
    CHECK(path_total({"main", "a", "x"}) == 3);
    CHECK(path_total({"main", "a", "y"}) == 0);
    CHECK(path_total({"x"}) == 0);
}

TEST_CASE("share change and its colour: red grew, blue shrank, white unchanged, strongest at the largest") {
    CHECK(share_change(50, 100, 40, 50) == doctest::Approx(0.3));
    CHECK(share_change(0, 0, 1, 2) == doctest::Approx(0.5));
    auto red = change_color(0.3, 0.3);
    CHECK((red.r == 255 && red.g == 55 && red.b == 55));
    auto pale_red = change_color(0.15, 0.3);
    CHECK((pale_red.r == 255 && pale_red.g == 155));
    auto blue = change_color(-0.3, 0.3);
    CHECK((blue.r == 55 && blue.b == 255));
    auto white = change_color(0, 0.3);
    CHECK((white.r == 255 && white.g == 255 && white.b == 255));
    auto none = change_color(0.1, 0);  // nothing changed anywhere
    CHECK((none.r == 255 && none.g == 255));
}
