// When the thread list's walk may pass a state by (listed_thread_states.hpp): only
// where the state's thread and the thread its `next` names both did not run, the
// state is reached as it was last time and once a walk, and no other state shares
// its ids.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "sampler/listed_thread_states.hpp"

using namespace pyprofd::sampler;

namespace {

constexpr RemoteAddress interp = 0x1000;

// A list of states at 0x100, 0x200, ... linked in that order, idents 1, 2, ...
std::vector<ThreadStateInfo> list_of(std::size_t n) {
    std::vector<ThreadStateInfo> states;
    for (std::size_t i = 0; i < n; ++i)
        states.push_back({.address = 0x100 * (i + 1), .interpreter = interp, .ident = i + 1,
                          .next = i + 1 < n ? 0x100 * (i + 2) : 0, .reached_from = 0x100 * i});
    return states;
}

// Where state `address` was reached from in list_of's list.
RemoteAddress from_of(RemoteAddress address) { return address - 0x100; }

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
    auto passable = [&](RemoteAddress address) { return listed.passable(address, from_of(address), interp, unchanged); };
    const auto* first = passable(0x100);
    REQUIRE(first);
    CHECK(first->next == 0x200);
    CHECK(first->ident == 1);
    CHECK_FALSE(passable(0x200));  // the state after it ran: its link is read again
    CHECK_FALSE(passable(0x300));  // it ran
    CHECK(passable(0x400));        // the last: no state after it
    // Each thread asked about once a walk.
    CHECK(asked == std::vector<RemoteAddress>{0x100, 0x200, 0x300, 0x400});

    SUBCASE("what a walk worked out is not kept for the next") {
        ran = {0x100};
        listed.start_walk();
        CHECK_FALSE(passable(0x100));
        CHECK(passable(0x200));
        CHECK(passable(0x300));
    }
    SUBCASE("a state met twice in one walk is not passed by, and the walk is told it is not the list") {
        listed.start_walk();
        CHECK(passable(0x100));
        CHECK_FALSE(listed.met_a_state_twice());
        CHECK_FALSE(passable(0x100));
        CHECK(listed.met_a_state_twice());
        listed.start_walk();
        CHECK_FALSE(listed.met_a_state_twice());
    }
    SUBCASE("another interpreter's list, or an address never listed, is read") {
        listed.start_walk();
        CHECK_FALSE(listed.passable(0x100, 0, interp + 8, unchanged));
        CHECK_FALSE(listed.passable(0x180, 0x100, interp, unchanged));
    }
    SUBCASE("a state reached another way than last time is read: its address may be a new state's") {
        listed.start_walk();
        CHECK_FALSE(listed.passable(0x400, 0, interp, unchanged));  // at the head now
        listed.start_walk();
        CHECK_FALSE(listed.passable(0x400, 0x200, interp, unchanged));  // after another state
    }
    SUBCASE("out of order (a thread started at the head), the state is still found") {
        listed.start_walk();
        CHECK(passable(0x400));
        CHECK(passable(0x100));
    }
    SUBCASE("a walk remembered replaces the last") {
        auto shorter = list_of(2);
        shorter[1].next = 0;
        listed.remember(shorter);
        CHECK(passable(0x200));
        CHECK_FALSE(passable(0x400));
        listed.clear();
        CHECK_FALSE(passable(0x100));
    }
}

// The proofs are read before the walk, and a thread may end in between: its state
// (0x300) is unlinked and freed, and a thread that starts is given its place at the
// head. The parked state before it (0x200) still passes by on proofs that predate
// that, with its old link; following it meets the new state at 0x300 a second time.
TEST_CASE("a stale link, to a state freed and taken by a new one at the head, is found by the state met twice") {
    ListedThreadStates listed;
    listed.remember(list_of(4));
    auto unchanged = [](const ThreadStateInfo&) { return true; };  // as proven before the walk
    listed.start_walk();
    CHECK_FALSE(listed.passable(0x300, 0, interp, unchanged));  // the new state, at the head: read
    CHECK_FALSE(listed.passable(0x100, 0x300, interp, unchanged));  // reached another way: read
    const auto* parked = listed.passable(0x200, 0x100, interp, unchanged);
    REQUIRE(parked);
    CHECK(parked->next == 0x300);  // the stale link
    CHECK_FALSE(listed.met_a_state_twice());
    CHECK_FALSE(listed.passable(0x300, 0x200, interp, unchanged));
    CHECK(listed.met_a_state_twice());
}

TEST_CASE("a state whose link names a state not in the last walk is read") {
    ListedThreadStates listed;
    auto states = list_of(3);
    states[0].next = 0x900;  // linked to a state started since (or never seen)
    listed.remember(states);
    auto unchanged = [](const ThreadStateInfo&) { return true; };
    CHECK_FALSE(listed.passable(0x100, 0, interp, unchanged));
    CHECK(listed.passable(0x200, 0x100, interp, unchanged));
}

TEST_CASE("states that share their ids (a thread starting, still with its starter's) are never passed by") {
    ListedThreadStates listed;
    auto states = list_of(4);
    states[0].ident = states[2].ident;  // 3.7-3.11: a new state at the head, with the ids of its starter
    listed.remember(states);
    auto unchanged = [](const ThreadStateInfo&) { return true; };
    CHECK_FALSE(listed.passable(0x100, 0, interp, unchanged));
    CHECK_FALSE(listed.passable(0x200, 0x100, interp, unchanged));  // the state after it is one of them
    CHECK_FALSE(listed.passable(0x300, 0x200, interp, unchanged));
    CHECK(listed.passable(0x400, 0x300, interp, unchanged));
    // The same ident in another interpreter is another thread's.
    states = list_of(2);
    states[1].interpreter = interp + 8;
    states[1].ident = states[0].ident;
    states[0].next = 0;
    states[1].reached_from = 0;
    listed.remember(states);
    CHECK(listed.passable(0x100, 0, interp, unchanged));
    CHECK(listed.passable(0x200, 0, interp + 8, unchanged));
}

TEST_CASE("in a long list, states out of the last walk's order are found too") {
    ListedThreadStates listed;
    listed.remember(list_of(40));  // past the few searched one by one: indexed
    auto unchanged = [](const ThreadStateInfo&) { return true; };
    auto passable = [&](RemoteAddress address) { return listed.passable(address, from_of(address), interp, unchanged); };
    const auto* late = passable(0x100 * 30);
    REQUIRE(late);
    CHECK(late->ident == 30);
    CHECK(passable(0x100 * 31));  // then in order again
    CHECK(passable(0x100));
    CHECK_FALSE(passable(0x100 * 41));
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

TEST_CASE("a walk of the same states is remembered with their ids as they are now") {
    // The same states in the same order, remembered again, keep what was worked out
    // of the last walk; the same states with other ids do not.
    ListedThreadStates listed;
    auto unchanged = [](const ThreadStateInfo&) { return true; };
    auto states = list_of(4);
    listed.remember(states);
    CHECK(listed.passable(0x100, 0, interp, unchanged));
    listed.remember(states);  // the same walk again
    CHECK(listed.passable(0x100, 0, interp, unchanged));
    states[0].ident = states[2].ident;  // the same addresses, but a thread starting at the head
    listed.remember(states);
    CHECK_FALSE(listed.passable(0x100, 0, interp, unchanged));
    listed.remember(states);  // and again: still shared
    CHECK_FALSE(listed.passable(0x100, 0, interp, unchanged));
    states[0].ident = 1;  // the starting thread took its own ids
    listed.remember(states);
    CHECK(listed.passable(0x100, 0, interp, unchanged));
    // Out of order in a long list (past what is searched): the index follows the new order.
    auto many = list_of(64);
    listed.remember(many);
    std::swap(many[10], many[20]);
    listed.remember(many);
    CHECK(listed.passable(many[20].address, many[20].reached_from, interp, unchanged));
}
