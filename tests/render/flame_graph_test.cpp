// The flame graph SVG: labels understood, kinds coloured, names escaped, narrow
// frames left out and counted, and the document well-formed (xmllint).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "render/content_hash.hpp"
#include "render/flame_graph.hpp"
#include "render/frame_colors.hpp"
#include "render/frame_label.hpp"
#include "render/xml_text.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd::render;

namespace {

std::string render(const Profile& profile, const FlameGraphOptions& options = {}) {
    std::ostringstream out;
    write_flame_graph(profile, options, out);
    return out.str();
}

// xmllint's verdict on a document: empty when well-formed.
std::string xmllint_errors(const std::string& document) {
    pyprofd::tests::ScratchDir dir;
    std::ofstream(dir.file("graph.svg")) << document;
    auto r = pyprofd::tests::run_command({.argv = std::vector<std::string>{"xmllint", "--noout", dir.file("graph.svg")}});
    REQUIRE_MESSAGE(r.exit_code != 127, "xmllint is missing: install libxml2-utils (scripts/deps-test.txt)");
    return r.exit_code == 0 ? std::string() : r.err + r.out;
}

}  // namespace

TEST_CASE("frame labels: function, file and line, or a bare native name") {
    auto a = parse_frame_label("Handler.get (/srv/app/views.py:42)");
    CHECK(a.function == "Handler.get");
    CHECK(a.file == "/srv/app/views.py");
    CHECK(a.line == 42);
    auto b = parse_frame_label("<lambda> (/srv/app/a (copy).py)");
    CHECK(b.function == "<lambda>");
    CHECK(b.file == "/srv/app/a (copy).py");
    CHECK(b.line == -1);
    auto c = parse_frame_label("malloc");
    CHECK(c.function == "malloc");
    CHECK(c.file.empty());
}

TEST_CASE("frame kinds: own code, standard library, packages, native, idle, thread roots") {
    CHECK(frame_kind("main (/srv/app/main.py:3)") == FrameKind::own_code);
    CHECK(frame_kind("get (/usr/lib/python3.11/json/decoder.py:10)") == FrameKind::standard_library);
    CHECK(frame_kind("_find_and_load (<frozen importlib._bootstrap>:1176)") == FrameKind::standard_library);
    CHECK(frame_kind("wsgi_app (/usr/lib/python3/dist-packages/flask/app.py:2190)") == FrameKind::site_packages);
    CHECK(frame_kind("get (/venv/lib/python3.12/site-packages/requests/api.py:73)") == FrameKind::site_packages);
    CHECK(frame_kind("__libc_start_main") == FrameKind::native);
    CHECK(frame_kind("<idle>") == FrameKind::idle);
    CHECK(frame_kind("[truncated]") == FrameKind::truncated);
    CHECK(frame_kind("thread \"worker-1\" (4243)") == FrameKind::thread_root);
}

TEST_CASE("colours: the same function has the same colour on every line and in every graph; kinds differ") {
    auto a = frame_color("work (/srv/app/a.py:1)");
    auto b = frame_color("work (/srv/app/a.py:99)");
    CHECK(css_color(a) == css_color(b));
    auto own = frame_color("f (/srv/app/a.py:1)");
    auto stdlib = frame_color("f (/usr/lib/python3.11/a.py:1)");
    CHECK(own.r > own.b);        // warm
    CHECK(stdlib.b > stdlib.r);  // blue
}

TEST_CASE("XML text: the five specials escaped, invalid UTF-8 and control characters replaced, UTF-8 kept") {
    CHECK(xml_escaped("<lambda>") == "&lt;lambda&gt;");
    CHECK(xml_escaped("a&b \"c\" 'd'") == "a&amp;b &quot;c&quot; &apos;d&apos;");
    CHECK(xml_escaped("計算する") == "計算する");
    CHECK(xml_escaped("bad\xff\xfe") == "bad\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(xml_escaped("bell\x07") == "bell\xEF\xBF\xBD");
    CHECK(xml_escaped("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a UTF-16 surrogate
}

TEST_CASE("nasty names render escaped in a well-formed document") {
    Profile p;
    const std::vector<std::string> nasty = {
        "<module> (/srv/a&b/<odd>.py:1)",
        "<lambda> (/srv/\"quoted\".py:2)",
        "<listcomp> (/srv/it's.py:3)",
        "計算する (/srv/unicode_名前.py:4)",
        "]]> (/srv/cdata.py:5)",
        "bad\xff (/srv/x.py:6)",
    };
    p.add_labels(nasty, 10);
    p.add_labels(std::vector<std::string>{nasty[0], nasty[3]}, 5);
    auto svg = render(p, {.title = "T <&> \"'", .subtitle = "計算 & more"});
    CHECK(xmllint_errors(svg).empty());
    CHECK(svg.find("&lt;module&gt; (/srv/a&amp;b/&lt;odd&gt;.py:1)") != std::string::npos);
    CHECK(svg.find("&lt;lambda&gt; (/srv/&quot;quoted&quot;.py:2)") != std::string::npos);
    CHECK(svg.find("&lt;listcomp&gt; (/srv/it&apos;s.py:3)") != std::string::npos);
    CHECK(svg.find("計算する (/srv/unicode_名前.py:4)") != std::string::npos);
    CHECK(svg.find("<title>T &lt;&amp;&gt; &quot;&apos;</title>") == std::string::npos);  // it is a <text>
    CHECK(svg.find(">T &lt;&amp;&gt; &quot;&apos;</text>") != std::string::npos);
}

TEST_CASE("labels are cut to fit their box at a character boundary") {
    Profile p;
    std::string long_name;
    for (int i = 0; i < 60; ++i) long_name += "計";
    p.add_labels(std::vector<std::string>{long_name + " (/a.py:1)"}, 1);
    p.add_labels(std::vector<std::string>{"x (/a.py:2)"}, 3);  // the long one gets a quarter of the width
    auto svg = render(p, {.width = 400});
    CHECK(xmllint_errors(svg).empty());
    CHECK(std::regex_search(svg, std::regex("<text x=\"[0-9.]+\" y=\"[0-9.]+\">(計)+\\.\\.</text>")));
}

TEST_CASE("frames narrower than the minimum width are left out and counted") {
    Profile p;
    p.add_labels(std::vector<std::string>{"main (/a.py:1)", "big (/a.py:2)"}, 100000);
    p.add_labels(std::vector<std::string>{"main (/a.py:1)", "tiny (/a.py:3)"}, 1);
    auto svg = render(p);
    CHECK(svg.find("big (/a.py:2)") != std::string::npos);
    CHECK(svg.find("tiny (/a.py:3)") == std::string::npos);
    CHECK(svg.find("1 frames narrower than 0.1 px left out") != std::string::npos);
    auto all = render(p, {.min_width_px = 0});
    CHECK(all.find("tiny (/a.py:3)") != std::string::npos);
    auto percent = render(p, {.min_width_percent = 50.0});
    CHECK(percent.find("main (/a.py:1)") != std::string::npos);
    CHECK(percent.find("big (/a.py:2)") != std::string::npos);
    CHECK(percent.find("tiny (/a.py:3)") == std::string::npos);
}

TEST_CASE("the root is at the bottom, or at the top when inverted; sizes and counts are in the boxes") {
    Profile p;
    p.add_labels(std::vector<std::string>{"main (/a.py:1)", "leaf (/a.py:2)"}, 3);
    auto y_of = [](const std::string& svg, const std::string& name) {
        std::smatch m;
        REQUIRE(std::regex_search(svg, m, std::regex("<title>" + name + "\n[^<]*</title><rect x=\"[0-9.]+\" y=\"([0-9.]+)\"")));
        return std::stod(m[1]);
    };
    auto flame = render(p);
    CHECK(y_of(flame, "all") > y_of(flame, "main \\(/a.py:1\\)"));
    CHECK(y_of(flame, "main \\(/a.py:1\\)") > y_of(flame, "leaf \\(/a.py:2\\)"));
    auto icicle = render(p, {.inverted = true});
    CHECK(y_of(icicle, "all") < y_of(icicle, "leaf \\(/a.py:2\\)"));
    CHECK(flame.find("data-total=\"3\"") != std::string::npos);
    CHECK(flame.find("<title>leaf (/a.py:2)\n3 samples (100.00%)</title>") != std::string::npos);
}

TEST_CASE("the SVG is self-contained: its script inside, nothing fetched") {
    Profile p;
    p.add_labels(std::vector<std::string>{"main (/a.py:1)"}, 1);
    auto svg = render(p);
    CHECK(svg.find("function search(term)") != std::string::npos);
    CHECK(svg.find("href") == std::string::npos);
    CHECK(svg.find(" src=") == std::string::npos);
    CHECK(xmllint_errors(svg).empty());
}

TEST_CASE("the graph's inline styles are the ones its style sources allow, by hash") {
    Profile p;
    p.add_labels(std::vector<std::string>{"main (/a.py:1)", "big (/a.py:2)"}, 100000);
    p.add_labels(std::vector<std::string>{"main (/a.py:1)", "tiny (/a.py:3)"}, 1);  // left out: its note has a style
    Profile before;
    before.add_labels(std::vector<std::string>{"main (/a.py:1)"}, 10);
    // A font with characters XML escapes: the sheet is hashed as the browser reads it.
    const FlameGraphOptions options{.font = "'Noto Sans', sans-serif"};
    FlameGraphOptions differential = options;
    differential.baseline = &before;  // its legend has a style
    auto sources = flame_graph_style_sources(options);
    REQUIRE(sources.size() == 4);
    CHECK(sources[1] == "'unsafe-hashes'");
    std::vector<std::string> written;
    for (const auto& svg : {render(p, options), render(p, differential)}) {
        std::smatch sheet;
        REQUIRE(std::regex_search(svg, sheet, std::regex("<style type=\"text/css\">([^<]*)</style>")));
        std::string text = std::regex_replace(sheet[1].str(), std::regex("&apos;"), "'");
        written.push_back(csp_hash_source(text));
        static const std::regex style_attribute(" style=\"([^\"]*)\"");
        for (std::sregex_iterator it(svg.begin(), svg.end(), style_attribute), end; it != end; ++it)
            written.push_back(csp_hash_source((*it)[1].str()));
    }
    CHECK(written.size() == 5);  // the sheet twice, the note twice, the legend once
    for (const auto& source : written)
        CHECK_MESSAGE(std::find(sources.begin(), sources.end(), source) != sources.end(), source);
    CHECK(flame_graph_style_sources({}) != sources);  // the font is in the sheet
}
