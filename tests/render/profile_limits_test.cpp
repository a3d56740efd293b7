// A profile's limits: past one, a stack not held yet counts under "[truncated]",
// what is held goes on counting, and the folded stacks stay within the limits.
#include <doctest/doctest.h>

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
using Labels = std::vector<std::string>;
}  // namespace

TEST_CASE("past max_frames, new stacks count under [truncated]; stacks held go on counting") {
    Profile p(ProfileLimits{.max_frames = 4});
    p.add_labels(Labels{"a", "b", "c"});
    p.add_labels(Labels{"a", "b", "d"});  // one frame more: 4
    p.add_labels(Labels{"x", "y"}, 2);     // two more: past the limit
    p.add_labels(Labels{"a", "b", "c"}, 3);
    CHECK(p.total_samples() == 7);
    CHECK(p.truncated_samples() == 2);
    CHECK(p.cap_reached() == ProfileCap::frames);
    CHECK(p.node_count() == 1 + 4 + 1);  // the root, a, b, c, d and [truncated]
    CHECK(folded(p) == "a;b;c 4\na;b;d 1\n[truncated] 2\n");
}

TEST_CASE("past max_stacks, a new stack counts under [truncated], also one that ends inside a stack held") {
    Profile p(ProfileLimits{.max_stacks = 2});
    p.add_labels(Labels{"a", "b"});
    p.add_labels(Labels{"a", "c"});
    p.add_labels(Labels{"a"});  // its frame is held, but no stack ends there yet
    p.add_labels(Labels{"a", "b"});
    CHECK(p.stack_count() == 2);
    CHECK(p.truncated_samples() == 1);
    CHECK(p.cap_reached() == ProfileCap::stacks);
    CHECK(folded(p) == "a;b 2\na;c 1\n[truncated] 1\n");
}

TEST_CASE("max_label_bytes bounds the distinct labels and the folded stacks' text") {
    Profile p(ProfileLimits{.max_label_bytes = 60});
    CHECK(p.intern("short") != Profile::no_frame);
    CHECK(p.intern(std::string(100, 'x')) == Profile::no_frame);  // a label that could never fit
    std::vector<FrameId> stack = {p.intern("short"), p.intern(std::string(100, 'x'))};
    p.add(stack);
    CHECK(p.truncated_samples() == 1);
    CHECK(p.cap_reached() == ProfileCap::label_bytes);
    // Each line counts its labels, separators and room for the count and newline.
    p.add_labels(Labels{"short", "f"});  // 6 + 2 + 21 = 29 bytes
    p.add_labels(Labels{"short", "g"});  // 58
    p.add_labels(Labels{"short", "h"});  // 87: past 60
    CHECK(p.stack_count() == 2);
    CHECK(p.stack_text_bytes() <= 60);
    CHECK(p.label_bytes() <= 60);
    CHECK(p.truncated_samples() == 2);
}

TEST_CASE("fresh stacks of long names without end: folded stacks stay within max_label_bytes") {
    const std::size_t limit = 100'000;
    Profile p(ProfileLimits{.max_stacks = 1'000'000, .max_frames = 1'000'000, .max_label_bytes = limit});
    Labels stack(50);
    for (int sample = 0; sample < 2'000; ++sample) {
        for (std::size_t i = 0; i < stack.size(); ++i)
            stack[i] = "f" + std::to_string(sample) + "_" + std::to_string(i) + std::string(100, 'n') + " (gen.py:1)";
        p.add_labels(stack);
    }
    auto text = folded(p);
    CHECK(p.total_samples() == 2'000);
    CHECK(p.truncated_samples() > 1'900);
    CHECK(text.size() <= limit + 40);  // and the one [truncated] line
    CHECK(p.label_bytes() <= limit);
    CHECK(text.ends_with("[truncated] " + std::to_string(p.truncated_samples()) + "\n"));
}

TEST_CASE("a truncated profile's folded stacks read back into the same profile") {
    ProfileLimits limits{.max_stacks = 3, .max_frames = 100, .max_label_bytes = 1000};
    Profile p(limits);
    for (int i = 0; i < 10; ++i) p.add_labels(Labels{"main", "f" + std::to_string(i)}, 1 + i);
    auto text = folded(p);
    Profile back(limits);
    std::istringstream in(text);
    REQUIRE_FALSE(read_folded(in, back));
    CHECK(folded(back) == text);
    CHECK(back.truncated_samples() == p.truncated_samples());
    CHECK(back.total_samples() == p.total_samples());
    CHECK(back.stack_count() == 3);
    // Adding after the reload goes on the same way.
    back.add_labels(Labels{"main", "new"});
    CHECK(back.truncated_samples() == p.truncated_samples() + 1);
}

TEST_CASE("without limits a profile holds every stack") {
    Profile p;
    for (int i = 0; i < 1000; ++i) p.add_labels(Labels{"main", "f" + std::to_string(i)});
    CHECK(p.stack_count() == 1000);
    CHECK(p.truncated_samples() == 0);
    CHECK(p.cap_reached() == ProfileCap::none);
}
