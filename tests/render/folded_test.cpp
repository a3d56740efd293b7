#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include "render/folded.hpp"
#include "render/profile.hpp"

using namespace pyprofd::render;

namespace {
std::string folded(const Profile& p) {
    std::ostringstream out;
    write_folded(p, out);
    return out.str();
}
}  // namespace

TEST_CASE("a profile merges stacks into a trie with self and total counts") {
    Profile p;
    std::vector<std::string> a = {"<module> (app.py:10)", "main (app.py:5)", "heavy (app.py:2)"};
    std::vector<std::string> b = {"<module> (app.py:10)", "main (app.py:6)", "light (app.py:3)"};
    std::vector<std::string> c = {"<module> (app.py:10)", "main (app.py:5)"};
    for (int i = 0; i < 3; ++i) p.add_labels(a);
    p.add_labels(b);
    p.add_labels(c, 2);
    CHECK(p.total_samples() == 6);
    CHECK(p.frame_count() == 5);
    CHECK(p.node_count() == 1 + 5);  // root, <module>, main:5, heavy, main:6, light
    const auto& module = p.node(p.node(Profile::root).first_child);
    CHECK(p.label(module.frame) == "<module> (app.py:10)");
    CHECK(module.total == 6);
    CHECK(p.self_samples(p.node(Profile::root).first_child) == 0);
    auto main5_id = module.first_child;
    const auto& main5 = p.node(main5_id);
    CHECK(main5.total == 5);
    CHECK(p.self_samples(main5_id) == 2);
}

TEST_CASE("memory grows with distinct stacks, not with samples") {
    Profile p;
    std::vector<std::string> s = {"a", "b", "c"};
    for (int i = 0; i < 100000; ++i) p.add_labels(s);
    CHECK(p.node_count() == 4);
    CHECK(p.total_samples() == 100000);
}

TEST_CASE("folded stacks are written root first with self counts") {
    Profile p;
    p.add_labels(std::vector<std::string>{"main", "f", "g"}, 3);
    p.add_labels(std::vector<std::string>{"main", "f"}, 2);
    p.add_labels(std::vector<std::string>{"main", "h (x y.py:3)"}, 1);
    CHECK(folded(p) == "main;f 2\nmain;f;g 3\nmain;h (x y.py:3) 1\n");
}

TEST_CASE("folded stacks read back into the same profile (round trip)") {
    std::string text =
        "<module> (app.py:10);main (app.py:5);heavy (app.py:2) 750\n"
        "<module> (app.py:10);main (app.py:6);light (app.py:3) 250\n"
        "thread \"worker-1\" (4243);run (threading.py:982);計算する (名前.py:7) 12\n";
    Profile p;
    std::istringstream in(text);
    REQUIRE_FALSE(read_folded(in, p));
    CHECK(p.total_samples() == 1012);
    CHECK(folded(p) == text);
    // Reading the same input twice adds the counts.
    std::istringstream again(text);
    REQUIRE_FALSE(read_folded(again, p));
    CHECK(p.total_samples() == 2024);
}

TEST_CASE("folded input from other tools: CRLF, blank lines, frames with spaces") {
    Profile p;
    std::istringstream in("a;b c;d 5\r\n\n   \na;b c 1\r\n");
    REQUIRE_FALSE(read_folded(in, p));
    CHECK(folded(p) == "a;b c 1\na;b c;d 5\n");
}

TEST_CASE("bad folded input names the line and what is wrong") {
    Profile p;
    std::istringstream no_count("a;b 3\na;b;c\n");
    auto e = read_folded(no_count, p);
    REQUIRE(e);
    CHECK(e->line == 2);
    CHECK(e->message == "expected 'frame;frame;... count', found no count");
    CHECK(p.total_samples() == 3);  // what came before the bad line is kept

    Profile word;
    std::istringstream not_a_number("a;b many\n");
    auto w = read_folded(not_a_number, word);
    REQUIRE(w);
    CHECK(w->message == "the count 'many' is not a whole number");

    Profile q;
    std::istringstream negative("a;b -3\n");
    auto n = read_folded(negative, q);
    REQUIRE(n);
    CHECK(n->line == 1);
    CHECK(n->message.find("'-3'") != std::string::npos);
}

TEST_CASE("huge counts: a count beyond 10^18 is refused; totals saturate instead of wrapping") {
    Profile p;
    std::istringstream too_big("a;b 1000000000000000001\n");
    auto e = read_folded(too_big, p);
    REQUIRE(e);
    CHECK(e->message == "the count 1000000000000000001 is larger than 10^18");
    Profile q;
    std::istringstream in("a;b 1000000000000000000\n");
    for (int i = 0; i < 20; ++i) {  // 2e19: past 2^64
        in.clear();
        in.seekg(0);
        REQUIRE_FALSE(read_folded(in, q));
    }
    CHECK(q.total_samples() == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("a line with a count but no frame is an error, not samples that no view shows") {
    Profile p;
    std::istringstream in("a 1\n;; 2\n");
    auto e = read_folded(in, p);
    REQUIRE(e);
    CHECK(e->line == 2);
    CHECK(e->message == "expected 'frame;frame;... count', found no frame before the count");
    CHECK(p.total_samples() == 1);
}
