// `pyprofd render`: folded stacks from a file or stdin to a flame graph or back
// to folded, with clear errors for bad input and arguments.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/integration/record_support.hpp"

using namespace pyprofd::tests;

namespace {

CommandResult render(std::vector<std::string> args, const std::string& stdin_text = {}) {
    std::vector<std::string> argv = {pyprofd_binary(), "render"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (stdin_text.empty()) return run_command({.argv = argv});
    // Through a shell, to feed standard input.
    ScratchDir dir;
    auto input = dir.file("in");
    std::ofstream(input) << stdin_text;
    std::string command;
    for (const auto& a : argv) command += "'" + a + "' ";
    return run_command({.argv = {"/bin/sh", "-c", command + "< '" + input + "'"}});
}

// py-spy's raw output and flamegraph.pl's input look like this.
const std::string folded =
    "<module> (app.py:1);main (app.py:9);work (app.py:3) 30\n"
    "<module> (app.py:1);main (app.py:9) 10\n"
    "process_a;[libc.so.6];malloc 5\n";

}  // namespace

TEST_CASE("render: folded from a file to a well-formed SVG with the title and the frames") {
    ScratchDir dir;
    std::ofstream(dir.file("p.folded")) << folded;
    auto r = render({dir.file("p.folded"), "-o", dir.file("p.svg"), "--title", "My & title", "--width", "800"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto lint = run_command({.argv = {"xmllint", "--noout", dir.file("p.svg")}});
    CHECK_MESSAGE(lint.exit_code == 0, lint.err);
    std::ifstream in(dir.file("p.svg"));
    std::string svg;
    std::getline(in, svg, '\0');  // the whole file
    CHECK(svg.find(">My &amp; title</text>") != std::string::npos);
    CHECK(svg.find("work (app.py:3)\n30 samples") != std::string::npos);
    CHECK(svg.find("&lt;module&gt; (app.py:1)\n40 samples") != std::string::npos);
    CHECK(svg.find("malloc\n5 samples") != std::string::npos);
    CHECK(svg.find("width=\"800\"") != std::string::npos);
}

TEST_CASE("render: standard input to standard output; --format folded gives the stacks back") {
    auto r = render({"--format", "folded"}, folded);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("<module> (app.py:1);main (app.py:9);work (app.py:3) 30\n") != std::string::npos);
    CHECK(r.out.find("<module> (app.py:1);main (app.py:9) 10\n") != std::string::npos);
    CHECK(r.out.find("process_a;[libc.so.6];malloc 5\n") != std::string::npos);
    auto svg = render({}, folded);
    CHECK(svg.exit_code == 0);
    CHECK(svg.out.starts_with("<?xml"));
}

TEST_CASE("render: bad input names the line; bad arguments say what is wrong") {
    auto bad = render({}, "a;b 3\nno count here\n");
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("standard input line 2") != std::string::npos);
    auto missing = render({"/nonexistent/p.folded"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("cannot read /nonexistent/p.folded: No such file or directory") != std::string::npos);
    auto width = render({"--width", "abc"});
    CHECK(width.exit_code == 2);
    CHECK(width.err.find("--width takes a number from 100 to 100000, not 'abc'") != std::string::npos);
    auto minwidth = render({"--minwidth", "150%"});
    CHECK(minwidth.exit_code == 2);
    CHECK(minwidth.err.find("--minwidth takes pixels (0.1) or a percentage (0.5%), not '150%'") != std::string::npos);
    auto name = render({"-o", "out.png"});
    CHECK(name.exit_code == 2);
    CHECK(name.err.find("cannot tell the format from the name 'out.png'") != std::string::npos);
}

TEST_CASE("render: what it reads is bounded as a session is; past a limit, stacks count under [truncated]") {
    ScratchDir dir;
    {
        std::ofstream many(dir.file("many.folded"));
        for (int i = 0; i < 50; ++i) many << "main (app.py:1);work_" << i << " (app.py:2) " << i + 1 << "\n";
    }
    auto r = render({"--max-stacks", "10", "-f", "folded", dir.file("many.folded")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::size_t lines = 0, truncated = 0, total = 0;
    std::istringstream out(r.out);
    for (std::string line; std::getline(out, line);) {
        ++lines;
        auto count = std::stoull(line.substr(line.rfind(' ') + 1));
        total += count;
        if (line.starts_with("[truncated] ")) truncated = count;
    }
    CHECK(lines == 11);
    CHECK(total == 50 * 51 / 2);  // every sample is still counted
    CHECK(truncated == total - 10 * 11 / 2);
    CHECK_MESSAGE(r.err.find("--max-stacks raises it") != std::string::npos, r.err);

    auto bad = render({"--max-frames", "1.5", dir.file("many.folded")});
    CHECK(bad.exit_code == 2);
    CHECK_MESSAGE(bad.err.find("--max-frames takes a whole number") != std::string::npos, bad.err);
}
