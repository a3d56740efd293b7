// Names from a hostile target cannot forge the structure of a profile: the folded
// writer keeps one stack on one line with its own frames, whatever the labels hold,
// and the flame graph stays well-formed XML.
#include <doctest/doctest.h>

#include <sstream>

#include "render/flame_graph.hpp"
#include "render/folded.hpp"
#include "render/label_text.hpp"
#include "render/xml_text.hpp"

using namespace pyprofd::render;

TEST_CASE("safe label text: controls shown as Control Pictures, ';' as U+FF1B, the rest as U+FFFD") {
    CHECK(safe_label_text("Handler.get") == "Handler.get");
    CHECK(safe_label_text("計算する (名前.py:7)") == "計算する (名前.py:7)");
    CHECK(safe_label_text("a\nb") == "a\u240Ab");
    CHECK(safe_label_text("a\r\tb") == "a\u240D\u2409b");
    CHECK(safe_label_text(std::string_view("nul\0", 4)) == "nul\u2400");
    CHECK(safe_label_text("del\x7f") == "del\u2421");
    CHECK(safe_label_text("a;b") == "a\uFF1Bb");
    CHECK(safe_label_text("\xC2\x85") == "\uFFFD");              // NEL, a C1 control
    CHECK(safe_label_text("\u2028\u2029") == "\uFFFD\uFFFD");  // line and paragraph separators
    CHECK(safe_label_text("\xEF\xBF\xBF\xEF\xBF\xBE") == "\uFFFD\uFFFD");  // U+FFFF, U+FFFE
    CHECK(safe_label_text("bad\xff") == "bad\uFFFD");
    CHECK(safe_label_text("\xED\xA0\x80") == "\uFFFD\uFFFD\uFFFD");  // a surrogate is not UTF-8
    CHECK(safe_label_text("\xF0\x9F\x94\xA5 fire") == "\xF0\x9F\x94\xA5 fire");
}

TEST_CASE("safe label text is idempotent and says whether text is safe") {
    for (std::string_view raw : {"a\nb;c 1000000000000000000", "\xEF\xBF\xBF\x01\xff", "plain (a.py:1)"}) {
        auto once = safe_label_text(raw);
        CHECK(safe_label_text(once) == once);
        CHECK(is_safe_label_text(once));
    }
    CHECK_FALSE(is_safe_label_text("a\nb"));
    CHECK_FALSE(is_safe_label_text("a;b"));
    CHECK_FALSE(is_safe_label_text("\xEF\xBF\xBF"));
    CHECK(is_safe_label_text("thread \"worker-1\" (4243)"));
}

TEST_CASE("a label with a newline, ';' and a count cannot forge a line or frames of folded stacks") {
    Profile p;
    // What a function whose co_qualname is "f\nforged;stack 1000000000000000000" looks like.
    std::vector<std::string> hostile = {"thread \"t\nx\" (7)", "<module> (app.py:1)",
                                        "f\nforged;stack 1000000000000000000 (app.py:3)"};
    p.add_labels(hostile, 5);
    p.add_labels(std::vector<std::string>{"thread \"t\nx\" (7)", "<module> (app.py:1)"}, 2);
    std::ostringstream out;
    write_folded(p, out);
    auto text = out.str();
    CHECK(text ==
          "thread \"t\u240Ax\" (7);<module> (app.py:1) 2\n"
          "thread \"t\u240Ax\" (7);<module> (app.py:1);f\u240Aforged\uFF1Bstack 1000000000000000000 (app.py:3) 5\n");
    // Read back: the same samples, the same stacks, and writing again changes nothing.
    Profile back;
    std::istringstream in(text);
    REQUIRE_FALSE(read_folded(in, back));
    CHECK(back.total_samples() == 7);
    CHECK(back.node_count() == p.node_count());
    std::ostringstream again;
    write_folded(back, again);
    CHECK(again.str() == text);
}

TEST_CASE("XML text: U+FFFE and U+FFFF are replaced, other characters near them kept") {
    CHECK(xml_escaped("a\xEF\xBF\xBF" "b") == "a\uFFFDb");
    CHECK(xml_escaped("\xEF\xBF\xBE") == "\uFFFD");
    CHECK(xml_escaped("\xEF\xBF\xBD") == "\uFFFD");  // U+FFFD itself is a character
    CHECK(xml_escaped("\xEF\xBF\xBC") == "\xEF\xBF\xBC");
    CHECK(xml_escaped("\xEF\xAB\xBF") == "\xEF\xAB\xBF");
}

TEST_CASE("a flame graph of names holding U+FFFF and control characters has none of them") {
    Profile p;
    p.add_labels(std::vector<std::string>{"thread \"\xEF\xBF\xBF\" (1)", "f\xEF\xBF\xBE\x01 (a.py:1)"}, 3);
    std::ostringstream out;
    FlameGraphOptions options;
    options.search = "\xEF\xBF\xBF";
    options.title = "title \xEF\xBF\xBF";
    write_flame_graph(p, options, out);
    auto svg = out.str();
    CHECK(svg.find("\xEF\xBF\xBF") == std::string::npos);
    CHECK(svg.find("\xEF\xBF\xBE") == std::string::npos);
    CHECK(svg.find('\x01') == std::string::npos);
}
