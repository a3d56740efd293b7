// Finding a process's descendants: the children files and the /proc scan find the
// same processes with the same parents, grandchildren too, within the bound asked.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "daemon/descendant_processes.hpp"

using namespace pyprofd::daemon;

namespace {

// A child that starts a grandchild, both waiting to be killed; (child, grandchild).
std::pair<pid_t, pid_t> start_two_generations() {
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        pid_t grandchild = ::fork();
        if (grandchild == 0) {
            for (;;) ::pause();
        }
        (void)!::write(report[1], &grandchild, sizeof grandchild);
        for (;;) ::pause();
    }
    pid_t grandchild = 0;
    REQUIRE(::read(report[0], &grandchild, sizeof grandchild) == sizeof grandchild);
    ::close(report[0]);
    ::close(report[1]);
    return {child, grandchild};
}

bool holds(const std::vector<DescendantProcess>& found, pid_t pid, pid_t parent) {
    return std::any_of(found.begin(), found.end(), [&](const auto& d) { return d.pid == pid && d.parent == parent; });
}

}  // namespace

TEST_CASE("descendants: children and grandchildren with their parents, either way, parents first") {
    auto [child, grandchild] = start_two_generations();
    for (auto how : {DescendantSearch::proc_scan, DescendantSearch::children_files, DescendantSearch::automatic}) {
        if (how == DescendantSearch::children_files && !kernel_lists_children()) continue;
        auto found = descendants_of(::getpid(), 1000, how);
        CAPTURE(static_cast<int>(how));
        CHECK(holds(found, child, ::getpid()));
        CHECK(holds(found, grandchild, child));
        auto at = [&](pid_t pid) {
            return std::find_if(found.begin(), found.end(), [&](const auto& d) { return d.pid == pid; }) - found.begin();
        };
        CHECK(at(child) < at(grandchild));
        CHECK(descendants_of(::getpid(), 1, how).size() == 1);  // the bound
        CHECK(descendants_of(grandchild, 1000, how).empty());
    }
    CHECK(parent_of(grandchild) == child);
    ::kill(grandchild, SIGKILL);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    CHECK(!parent_of(child));  // reaped: gone
}
