#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <sstream>

#include "render/folded.hpp"
#include "render/frame_label.hpp"
#include "render/thread_roots.hpp"
#include "render/protobuf_writer.hpp"

using namespace pyprofd::render;

TEST_CASE("thread root labels: named, unnamed, names with quotes; other labels are not threads") {
    auto named = parse_thread_label("thread \"worker-1\" (4243)");
    REQUIRE(named);
    CHECK(named->name == "worker-1");
    CHECK(named->tid == 4243);
    auto quoted = parse_thread_label("thread \"a \"b\" (c)\" (7)");
    REQUIRE(quoted);
    CHECK(quoted->name == "a \"b\" (c)");
    CHECK(quoted->tid == 7);
    auto unnamed = parse_thread_label("thread (12)");
    REQUIRE(unnamed);
    CHECK(unnamed->name.empty());
    CHECK_FALSE(parse_thread_label("thread (x)"));
    CHECK_FALSE(parse_thread_label("thread (threading.py:982)"));
    CHECK_FALSE(parse_thread_label("run (threading.py:982)"));
    CHECK_FALSE(parse_thread_label("thread \"x (1)"));
}

TEST_CASE("protocol buffers: varints, negative int64, nested and packed fields") {
    ProtobufWriter w;
    w.varint_field(1, 300);
    CHECK(w.bytes() == std::string("\x08\xac\x02", 3));
    w.clear();
    w.int64_field(2, -1);  // ten bytes, two's complement
    CHECK(w.bytes() == std::string("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));
    w.clear();
    std::vector<std::uint64_t> ids{1, 150};
    w.packed_field<std::uint64_t>(1, ids);
    CHECK(w.bytes() == std::string("\x0a\x03\x01\x96\x01", 5));
    ProtobufWriter outer;
    outer.message_field(3, w);
    CHECK(outer.bytes() == std::string("\x1a\x05\x0a\x03\x01\x96\x01", 7));
    w.clear();
    w.packed_field<std::uint64_t>(1, std::vector<std::uint64_t>{});
    CHECK(w.bytes().empty());  // an empty repeated field is left out
}

TEST_CASE("without thread roots: the threads' stacks merge, other stacks stay") {
    Profile p;
    p.add_labels(std::vector<std::string>{"thread \"a\" (1)", "main", "work"}, 3);
    p.add_labels(std::vector<std::string>{"thread (2)", "main", "work"}, 2);
    p.add_labels(std::vector<std::string>{"thread (2)", "main"}, 1);
    p.add_labels(std::vector<std::string>{"native", "thread (9)"}, 4);  // not a root: kept
    p.add_labels(std::vector<std::string>{"thread (3)"}, 7);            // the root alone: kept, or its samples vanish
    auto merged = without_thread_roots(p);
    CHECK(merged.total_samples() == 17);
    std::ostringstream out;
    write_folded(merged, out);
    CHECK(out.str() == "main 1\nmain;work 5\nnative;thread (9) 4\nthread (3) 7\n");
}
