// A worker tree's profile: a root frame per process ("process PID (command line)")
// above the thread roots, kept by every format.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "render/folded.hpp"
#include "render/frame_label.hpp"
#include "render/pprof.hpp"
#include "render/speedscope.hpp"
#include "render/thread_roots.hpp"

using namespace pyprofd::render;

TEST_CASE("process root labels: made safe and bounded, read back; other labels are not processes") {
    auto label = process_label(4242, "gunicorn: worker [app]");
    CHECK(label == "process 4242 (gunicorn: worker [app])");
    auto parsed = parse_process_label(label);
    REQUIRE(parsed);
    CHECK(parsed->pid == 4242);
    CHECK(parsed->command == "gunicorn: worker [app]");
    CHECK(frame_kind(label) == FrameKind::process_root);
    // A command line of the target's own making: no line or frame of folded stacks forged.
    auto hostile = process_label(7, "python3 -c x\n;evil (a) 1");
    CHECK(hostile.find('\n') == std::string::npos);
    CHECK(hostile.find(';') == std::string::npos);
    CHECK(parse_process_label(hostile)->command.find("(a)") != std::string_view::npos);
    auto long_one = process_label(8, std::string(1000, 'x') + "\xc3\xa9");
    CHECK(long_one.size() < max_process_label_command_bytes + 32);
    CHECK(long_one.ends_with("\xe2\x80\xa6)"));  // "…)": it says it was cut
    auto cut_in_a_character = process_label(9, std::string(199, 'x') + "\xc3\xa9\xc3\xa9");
    CHECK(cut_in_a_character == "process 9 (" + std::string(199, 'x') + "\xe2\x80\xa6)");
    CHECK_FALSE(parse_process_label("process (1)"));
    CHECK_FALSE(parse_process_label("process x (a)"));
    CHECK_FALSE(parse_process_label("process 12"));
    CHECK_FALSE(parse_process_label("run (process.py:3)"));
    // Its parenthesis holds a command line, not a file: the whole label is its name.
    CHECK(parse_frame_label("process 12 (app.py:3)").file.empty());
}

namespace {

Profile tree_profile() {
    Profile p;
    p.add_labels(std::vector<std::string>{"process 10 (master)", "thread (10)", "main (m.py:1)", "sleep (m.py:2)"}, 2);
    p.add_labels(std::vector<std::string>{"process 11 (worker)", "thread (11)", "main (w.py:1)", "work (w.py:5)"}, 5);
    p.add_labels(std::vector<std::string>{"process 12 (worker)", "thread \"t\" (13)", "main (w.py:1)", "work (w.py:5)"}, 3);
    return p;
}

}  // namespace

TEST_CASE("stack roots: a process root first, a thread root first or under it") {
    auto p = tree_profile();
    RootFrames roots(p);
    CHECK(roots.has_process_roots());
    std::vector<RootFrames::Roots> seen;
    p.for_each_stack([&](std::span<const NodeId> path, std::uint64_t) { seen.push_back(roots.of(path)); });
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].process == 0);
    CHECK(seen[0].thread == 1);
    CHECK(seen[0].first_frame == 2);
    Profile plain;
    plain.add_labels(std::vector<std::string>{"thread (1)", "main"}, 1);
    CHECK_FALSE(RootFrames(plain).has_process_roots());
}

TEST_CASE("merged threads keep the process roots: each process's threads merge, processes stay apart") {
    auto merged = without_thread_roots(tree_profile());
    std::ostringstream out;
    write_folded(merged, out);
    CHECK(out.str() ==
          "process 10 (master);main (m.py:1);sleep (m.py:2) 2\n"
          "process 11 (worker);main (w.py:1);work (w.py:5) 5\n"
          "process 12 (worker);main (w.py:1);work (w.py:5) 3\n");
}

TEST_CASE("speedscope: a profile per thread of each process, named by both, with the process frame at its root") {
    std::ostringstream out;
    write_speedscope(tree_profile(), {.name = "tree"}, out);
    auto file = nlohmann::json::parse(out.str());
    const auto& profiles = file["profiles"];
    REQUIRE(profiles.size() == 3);
    CHECK(profiles[1]["name"] == "process 11 (worker) thread (11)");
    CHECK(profiles[2]["name"] == "process 12 (worker) thread \"t\" (13)");
    const auto& frames = file["shared"]["frames"];
    auto root_of = [&](const nlohmann::json& profile) {
        return frames[profile["samples"][0][0].get<std::size_t>()]["name"].get<std::string>();
    };
    CHECK(root_of(profiles[1]) == "process 11 (worker)");
    CHECK(profiles[1]["samples"][0].size() == 3);  // the process, main, work: the thread's root names the profile
}

TEST_CASE("pprof: the process root is a location at each sample's root, and its pid a label") {
    auto message = pprof_message(tree_profile(), {});
    CHECK(message.find("process 11 (worker)") != std::string::npos);
    CHECK(message.find("pid") != std::string::npos);
    Profile plain;
    plain.add_labels(std::vector<std::string>{"thread (1)", "main"}, 1);
    CHECK(pprof_message(plain, {}).find("pid") == std::string::npos);  // a profile of one process stays as it was
}
