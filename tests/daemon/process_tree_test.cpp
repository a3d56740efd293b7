// A worker tree, with real child processes as the descendants and a CPython built
// by hand standing in for each Python among them: which are followed, passed over,
// refused, failed and left alone past the limit, and where each sample goes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "daemon/process_tree.hpp"
#include "daemon/profile_output.hpp"
#include "tests/support/fake_attach.hpp"
#include "tests/support/sleeping_child.hpp"

using namespace pyprofd;
using daemon::ProcessTree;
using daemon::SampledProcessState;

namespace {

// The children of this test, each to be "attached" as the test says.
struct Tree {
    std::vector<std::unique_ptr<tests::ChildProcess>> children;
    std::map<pid_t, sampler::ErrorKind> failing;  // attaching these fails so
    std::set<pid_t> refused;                      // the caller may not profile these
    std::vector<pid_t> attached;                  // every attach asked, in order

    pid_t add() {
        children.push_back(tests::sleeping_child());
        return children.back()->pid();
    }
    ProcessTree tree(const sampler::PythonProcess& root, std::size_t max_processes = 64) {
        return ProcessTree(
            root,
            [this](pid_t pid) -> sampler::Result<sampler::PythonProcess> {
                attached.push_back(pid);
                bool ours = false;
                for (const auto& c : children) ours = ours || c->pid() == pid;
                if (!ours) return tests::failing_attach(sampler::ErrorKind::not_python)(pid);  // another test's
                if (auto f = failing.find(pid); f != failing.end()) return tests::failing_attach(f->second)(pid);
                return tests::attach_fake_python(pid);
            },
            [this](pid_t pid) -> std::expected<void, std::string> {
                if (refused.contains(pid)) return std::unexpected("refused by the test");
                return {};
            },
            {.max_processes = max_processes});
    }
};

}  // namespace

TEST_CASE("a tree follows its Python descendants, passes over the others, refuses and fails as told") {
    Tree t;
    auto python = t.add(), not_python = t.add(), refused = t.add(), broken = t.add();
    t.failing[not_python] = sampler::ErrorKind::not_python;
    t.failing[broken] = sampler::ErrorKind::bad_data;
    t.refused.insert(refused);
    auto root = tests::attach_fake_python(::getpid());
    REQUIRE(root);
    auto tree = t.tree(*root);
    std::map<std::size_t, std::uint64_t> samples_by_index;
    std::set<std::string> labels;
    for (int i = 0; i < ProcessTree::attach_attempts + 1; ++i) {
        tree.look_for_descendants(::getpid());
        auto outcome = tree.tick(*root, {.thread_activity = false},
                                 [&](const sampler::StackSample&, std::uint64_t, const ProcessTree::Source& source) {
                                     ++samples_by_index[source.index];
                                     labels.insert(source.root_label);
                                 });
        CHECK(outcome.kind == sampler::TickOutcome::Kind::sampled);
    }
    const auto& records = tree.processes();
    REQUIRE(records.size() == 3);  // the root, the Python child, the broken one
    CHECK(records[0].pid == ::getpid());
    CHECK(records[1].pid == python);
    CHECK(records[1].parent == ::getpid());
    CHECK(records[1].state == SampledProcessState::sampling);
    CHECK(records[1].python_version.starts_with("3.11"));
    CHECK(records[1].samples == samples_by_index[1]);
    CHECK(records[1].samples > 0);
    CHECK(records[2].pid == broken);
    CHECK(records[2].state == SampledProcessState::failed);
    CHECK(records[2].error.find("made to fail") != std::string::npos);
    CHECK(tree.skipped().failed == 1);
    CHECK(tree.skipped().not_permitted == 1);
    CHECK(std::count(t.attached.begin(), t.attached.end(), refused) == 0);  // refused: never attached
    CHECK(std::count(t.attached.begin(), t.attached.end(), python) == 1);   // attached once
    CHECK(std::count(t.attached.begin(), t.attached.end(), not_python) == 1);  // passed over, not retried
    CHECK(std::none_of(records.begin(), records.end(), [&](const auto& r) { return r.pid == not_python; }));
    CHECK(std::count(t.attached.begin(), t.attached.end(), broken) == ProcessTree::attach_attempts);
    // The stand-in has no command line of its own: "process PID ()".
    CHECK(labels.contains("process " + std::to_string(python) + " (" +
                          daemon::command_text(tree.processes()[1].command_line) + ")"));
    CHECK(labels.contains("process " + std::to_string(::getpid()) + " (" +
                          daemon::command_text(tree.processes()[0].command_line) + ")"));
    tree.finish();
    CHECK(tree.processes()[1].state == SampledProcessState::sampled);
    CHECK(tree.followed() == 1);
}

TEST_CASE("past max_processes, descendants are counted once each and left alone") {
    Tree t;
    for (int i = 0; i < 4; ++i) t.add();
    auto root = tests::attach_fake_python(::getpid());
    REQUIRE(root);
    auto tree = t.tree(*root, 2);
    for (int i = 0; i < 3; ++i) tree.look_for_descendants(::getpid());
    CHECK(tree.followed() == 2);
    CHECK(tree.skipped().over_limit >= 3);  // each once, however many looks
    CHECK(tree.skipped().over_limit < 6);
    CHECK(t.attached.size() == 1);
}

TEST_CASE("out of descriptors for attached processes, descendants are counted once each and tried again") {
    Tree t;
    auto waiting = t.add();
    t.failing[waiting] = sampler::ErrorKind::out_of_descriptors;
    auto root = tests::attach_fake_python(::getpid());
    REQUIRE(root);
    auto tree = t.tree(*root);
    for (int i = 0; i < ProcessTree::attach_attempts + 2; ++i) tree.look_for_descendants(::getpid());
    CHECK(tree.followed() == 1);
    CHECK(tree.skipped().out_of_descriptors == 1);  // once, however many looks
    CHECK(tree.skipped().over_limit == 0);          // not limits.max_session_processes
    CHECK(tree.skipped().failed == 0);              // not a failure: nothing is wrong with it
    CHECK(std::count(t.attached.begin(), t.attached.end(), waiting) == ProcessTree::attach_attempts + 2);
    t.failing.erase(waiting);  // descriptors are free again
    tree.look_for_descendants(::getpid());
    CHECK(tree.followed() == 2);
    CHECK(tree.processes().back().pid == waiting);
}
