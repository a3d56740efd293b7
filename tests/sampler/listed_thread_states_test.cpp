// When the thread list's walk may pass a state by (listed_thread_states.hpp): only
// where the state's thread and the thread its `next` names both did not run.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "sampler/listed_thread_states.hpp"

using namespace pyprofd::sampler;

namespace {

constexpr RemoteAddress interp = 0x1000;

// A list of states at 0x100, 0x200, ... linked in that order.
std::vector<ThreadStateInfo> list_of(std::size_t n) {
    std::vector<ThreadStateInfo> states;
    for (std::size_t i = 0; i < n; ++i)
        states.push_back({.address = 0x100 * (i + 1), .interpreter = interp, .ident = i + 1,
                          .next = i + 1 < n ? 0x100 * (i + 2) : 0});
    return states;
}

}  // namespace

TEST_CASE("a state is passed by only where it and the state after it did not change") {
    ListedThreadStates listed;
    listed.remember(list_of(4));
    std::set<RemoteAddress> ran{0x300};
    std::vector<RemoteAddress> asked;
    auto unchanged = [&](const ThreadStateInfo& s) {
        asked.push_back(s.address);
        return !ran.contains(s.address);
    };
    const auto* first = listed.passable(0x100, interp, unchanged);
    REQUIRE(first);
    CHECK(first->next == 0x200);
    CHECK(first->ident == 1);
    CHECK_FALSE(listed.passable(0x200, interp, unchanged));  // the state after it ran: its link is read again
    CHECK_FALSE(listed.passable(0x300, interp, unchanged));  // it ran
    CHECK(listed.passable(0x400, interp, unchanged));        // the last: no state after it
    // Each thread asked about once a walk.
    CHECK(asked == std::vector<RemoteAddress>{0x100, 0x200, 0x300, 0x400});

    SUBCASE("another interpreter's list, or an address never listed, is read") {
        listed.start_walk();
        CHECK_FALSE(listed.passable(0x100, interp + 8, unchanged));
        CHECK_FALSE(listed.passable(0x180, interp, unchanged));
    }
    SUBCASE("out of order (a thread started at the head), the state is still found") {
        listed.start_walk();
        CHECK(listed.passable(0x400, interp, unchanged));
        CHECK(listed.passable(0x100, interp, unchanged));
    }
    SUBCASE("a walk remembered replaces the last") {
        auto shorter = list_of(2);
        shorter[1].next = 0;
        listed.remember(shorter);
        CHECK(listed.passable(0x200, interp, unchanged));
        CHECK_FALSE(listed.passable(0x400, interp, unchanged));
        listed.clear();
        CHECK_FALSE(listed.passable(0x100, interp, unchanged));
    }
}

TEST_CASE("in a long list, states out of the last walk's order are found too") {
    ListedThreadStates listed;
    listed.remember(list_of(40));  // past the few searched one by one: indexed
    auto unchanged = [](const ThreadStateInfo&) { return true; };
    const auto* late = listed.passable(0x100 * 30, interp, unchanged);
    REQUIRE(late);
    CHECK(late->ident == 30);
    CHECK(listed.passable(0x100 * 31, interp, unchanged));  // then in order again
    CHECK(listed.passable(0x100, interp, unchanged));
    CHECK_FALSE(listed.passable(0x100 * 41, interp, unchanged));
}

TEST_CASE("a whole walk has the remembered states' pages read up front, each once") {
    ListedThreadStates listed;
    std::vector<ThreadStateInfo> states{{.address = 0x10010, .interpreter = interp},
                                        {.address = 0x10800, .interpreter = interp},
                                        {.address = 0x10f80, .interpreter = interp},  // runs into the next page
                                        {.address = 0x30000, .interpreter = interp}};
    listed.remember(states);
    std::vector<RemoteAddress> pages;
    listed.append_pages(pages, 0x100);
    CHECK(pages == std::vector<RemoteAddress>{0x10000, 0x11000, 0x30000});
}
