// The command line as pyprofd reads it: each command's --help tells its own
// options, usage errors name the option and exit 2, and what is given arrives in
// the command's options. Nothing here runs a command.
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "cli/command_line.hpp"
#include "cli/help_format.hpp"

using namespace pyprofd::cli;

namespace {

ParsedCommandLine parse(std::vector<std::string> args) { return parse_command_line(args); }

// What the command line prints instead of running a command.
Printout printout(std::vector<std::string> args) {
    auto parsed = parse(args);
    REQUIRE_MESSAGE(std::holds_alternative<Printout>(parsed), "a command would run");
    return std::get<Printout>(parsed);
}

// A usage error's message: exit status 2, on stderr.
std::string usage_error(std::vector<std::string> args) {
    auto out = printout(args);
    CHECK(out.exit_status == 2);
    CHECK(out.to_stderr);
    return out.text;
}

template <class Options>
Options options_of(std::vector<std::string> args) {
    auto parsed = parse(args);
    if (auto* out = std::get_if<Printout>(&parsed)) FAIL("no command: " << out->text);
    REQUIRE(std::holds_alternative<Options>(parsed));
    return std::get<Options>(parsed);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("each command's --help tells its own options and exits 0") {
    struct Case {
        std::vector<std::string> args;
        std::vector<std::string> shown;
        std::vector<std::string> not_shown;
    };
    const Case cases[] = {
        {{"--help"}, {"Usage: pyprofd", "dump", "record", "render", "serve", "--version"}, {"--max-stacks"}},
        {{"help"}, {"Usage: pyprofd", "record"}, {}},
        {{"dump", "--help"}, {"pyprofd dump --pid PID", "--json", "-p,--pid"}, {"--rate", "--listen"}},
        {{"record", "--help"},
         {"-- PROGRAM [ARGS...]", "-r,--rate HZ", "-d,--duration", "-o,--output", "-f,--format", "--idle", "--gil",
          "--threads", "--function", "--blocking", "--nonblocking", "--max-stacks", "--max-frames", "--max-label-mb",
          "never outlives pyprofd"},
         {"--listen", "--minwidth"}},
        {{"render", "--help"},
         {"--diff", "--title", "--subtitle", "--search", "--font ", "--unit", "--width", "--frame-height",
          "--font-size", "--minwidth PX|P%", "--inverted", "--rate", "-o,--output", "--max-label-mb"},
         {"--pid", "--listen"}},
        {{"serve", "--help"}, {"--config FILE", "--listen ADDR", "--state-dir DIR"}, {"--pid", "--rate"}},
        {{"record", "--pid", "1", "--help"}, {"-r,--rate"}, {"--listen"}},
    };
    for (const auto& c : cases) {
        std::string name;
        for (const auto& a : c.args) name += a + " ";
        SUBCASE(name.c_str()) {
            auto out = printout(c.args);
            CHECK(out.exit_status == 0);
            CHECK_FALSE(out.to_stderr);
            INFO(out.text);
            for (const auto& s : c.shown) CHECK_MESSAGE(has(out.text, s), s);
            for (const auto& s : c.not_shown) CHECK_MESSAGE(!has(out.text, s), s);
        }
    }
}

TEST_CASE("--help-all shows every command's options; --version the version") {
    auto all = printout({"--help-all"});
    CHECK(all.exit_status == 0);
    for (const auto* s : {"--pid", "--rate", "--minwidth", "--listen", "--json"}) CHECK_MESSAGE(has(all.text, s), s);
    // The shape help2man makes the man page of: every usage (SYNOPSIS), a section per command.
    for (const auto* s : {"  or:  pyprofd dump --pid PID [--json]\n", "  or:  pyprofd record [OPTIONS] -- PROGRAM [ARGS...]\n",
                          "\nDump options:\n", "\nRecord options:\n", "\nRender options:\n", "\nServe options:\n"})
        CHECK_MESSAGE(has(all.text, s), s);
    auto version = printout({"--version"});
    CHECK(version.exit_status == 0);
    CHECK(version.text == std::string("pyprofd ") + PYPROFD_VERSION + "\n");
}

TEST_CASE("pyprofd alone prints the usage and exits 2") {
    auto out = printout({});
    CHECK(out.exit_status == 2);
    CHECK(has(out.text, "Usage: pyprofd"));
}

TEST_CASE("usage errors name the option and what was wrong, and tell where help is") {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const Case cases[] = {
        {{"frobnicate"}, "pyprofd: unknown command 'frobnicate'\nRun 'pyprofd --help' for usage.\n"},
        {{"dump"}, "pyprofd: dump needs --pid PID\nRun 'pyprofd dump --help' for usage.\n"},
        {{"dump", "--pid", "12ab"}, "--pid takes a positive number, not '12ab'"},
        {{"dump", "--pid=0"}, "--pid takes a positive number, not '0'"},
        {{"dump", "--pid", "1", "--colour"}, "dump: unknown argument '--colour'"},
        {{"dump", "--pid"}, "--pid"},
        {{"record", "--pid", "1", "--rate", "0"}, "--rate takes samples per second from 1 to 100000, not '0'"},
        {{"record", "--pid", "1", "-r", "fast"}, "--rate takes samples per second from 1 to 100000, not 'fast'"},
        {{"record", "--pid", "1", "--duration", "-1"}, "--duration takes seconds (more than 0), not '-1'"},
        {{"record", "--pid", "x"}, "--pid takes a process id, not 'x'"},
        {{"record", "--pid", "1", "--format", "png"}, "--format takes one of svg, folded, speedscope, pprof, not 'png'"},
        {{"record", "--pid", "1", "-o", "x.png"}, "cannot tell the format from the name 'x.png'"},
        {{"record", "--pid", "1", "--blocking", "--nonblocking"}, "--blocking excludes --nonblocking"},
        {{"record", "--pid", "1", "--", "python3"}, "give either --pid or a program after '--', not both"},
        {{"record", "--rate", "10"}, "record needs --pid PID or a program to launch after '--'"},
        {{"record", "--"}, "'--' must be followed by the program to run"},
        {{"record", "--pid", "1", "--colour"}, "pyprofd: record: unknown argument '--colour'\nRun 'pyprofd record --help'"},
        {{"record", "--pid", "1", "stray"}, "record: unknown argument 'stray'"},
        {{"record", "--pid", "1", "--max-label-mb", "0"}, "--max-label-mb takes a number from 1 to 1048576, not '0'"},
        {{"record", "--pid", "1", "--max-frames", "1.5"}, "--max-frames takes a whole number, not 1.5"},
        {{"record", "--pid", "1", "--rate"}, "--rate"},
        {{"record", "--pid", "1", "--idle=3"}, "idle was given a disallowed flag override"},
        {{"render", "--width", "abc"}, "--width takes a number from 100 to 100000, not 'abc'"},
        {{"render", "--minwidth", "150%"}, "--minwidth takes pixels (0.1) or a percentage (0.5%), not '150%'"},
        {{"render", "--rate", "0"}, "--rate takes a number from 0.001 to 1000000000, not '0'"},
        {{"render", "--diff", "a.folded"}, "render --diff compares two folded files"},
        {{"render", "a.folded", "b.folded"}, "render reads one input, not also 'b.folded' (--diff compares two)"},
        {{"render", "--diff", "a", "b", "-f", "pprof"}, "render --diff writes svg (a graph), text or json (a table), not 'pprof'"},
        {{"render", "--top", "2", "a"}, "--top orders the table of render --diff --format text|json"},
        {{"render", "--diff", "--top", "0", "a", "b", "-f", "text"}, "--top takes a number from 1 to 1000000000, not '0'"},
        {{"render", "--diff", "-", "-"}, "only one of the two inputs can be standard input"},
        {{"render", "--colour"}, "render: unknown argument '--colour'"},
        {{"serve", "--frobnicate"}, "serve: unknown argument '--frobnicate'"},
        {{"serve", "--config"}, "--config"},
    };
    for (const auto& c : cases) {
        std::string name;
        for (const auto& a : c.args) name += a + " ";
        SUBCASE(name.c_str()) {
            auto text = usage_error(c.args);
            CHECK_MESSAGE(has(text, c.message), text);
            CHECK(text.starts_with("pyprofd: "));
        }
    }
}

TEST_CASE("record: the values given arrive in its options") {
    auto r = options_of<RecordOptions>({"record", "-p", "42", "-r", "250", "-d", "1.5", "-o", "out.folded", "--idle",
                                        "--gil", "--function", "--blocking", "--max-stacks=10", "--max-frames", "20",
                                        "--max-label-mb", "3"});
    CHECK(r.pid == 42);
    CHECK(r.rate_hz == 250);
    CHECK(r.duration == std::chrono::milliseconds(1500));
    CHECK(r.output == "out.folded");
    CHECK(r.format == pyprofd::daemon::OutputFormat::folded);  // from the name
    CHECK(r.aggregation.include_idle);
    CHECK(r.aggregation.gil_only);
    CHECK(r.aggregation.by_function);
    CHECK_FALSE(r.aggregation.per_thread);
    CHECK(r.blocking);
    CHECK(r.limits.max_stacks == 10);
    CHECK(r.limits.max_frames == 20);
    CHECK(r.limits.max_label_bytes == 3u << 20);
    CHECK(r.command.empty());

    auto defaults = options_of<RecordOptions>({"record", "--pid=7"});
    CHECK(defaults.rate_hz == 100);
    CHECK_FALSE(defaults.duration);
    CHECK(defaults.output.empty());
    CHECK(defaults.format == pyprofd::daemon::OutputFormat::svg);
    CHECK_FALSE(defaults.blocking);
    CHECK(defaults.limits.max_stacks == default_profile_limits().max_stacks);

    // The last of a repeated option counts; speedscope keeps threads apart.
    auto repeated = options_of<RecordOptions>({"record", "-p", "7", "-r", "5", "--rate", "9", "-f", "speedscope"});
    CHECK(repeated.rate_hz == 9);
    CHECK(repeated.aggregation.per_thread);
    CHECK(options_of<RecordOptions>({"record", "-p", "7", "--nonblocking"}).blocking == false);

    // A worker tree: off unless asked; as many processes as the daemon follows by default.
    CHECK_FALSE(defaults.subprocesses);
    CHECK(defaults.max_processes == 64);
    auto tree = options_of<RecordOptions>({"record", "-p", "7", "--subprocesses", "--max-processes", "3"});
    CHECK(tree.subprocesses);
    CHECK(tree.max_processes == 3);
    auto refused = usage_error({"record", "-p", "7", "--subprocesses", "--max-processes", "0"});
    CHECK_MESSAGE(has(refused, "--max-processes"), refused);
}

TEST_CASE("record: what follows '--' is the program, options of its own included") {
    auto r = options_of<RecordOptions>({"record", "-d", "2", "--", "python3", "-c", "print(1)", "--rate", "3"});
    CHECK(r.command == std::vector<std::string>{"python3", "-c", "print(1)", "--rate", "3"});
    CHECK(r.rate_hz == 100);
    CHECK(r.duration == std::chrono::seconds(2));
    CHECK_FALSE(r.pid);
}

TEST_CASE("render: inputs ('-' for standard input), --diff and the graph's options arrive") {
    auto r = options_of<RenderOptions>({"render", "--title", "T", "--subtitle=S", "--search", "/a+/", "--font", "mono",
                                        "--unit", "bytes", "--width", "900", "--frame-height", "20", "--font-size",
                                        "10", "--minwidth", "0.5%", "--inverted", "--rate", "99", "-o", "-", "-"});
    const auto& graph = r.details.flame_graph;
    CHECK(graph.title == "T");
    CHECK(graph.subtitle == "S");
    CHECK(graph.search == "/a+/");
    CHECK(graph.font == "mono");
    CHECK(graph.unit == "bytes");
    CHECK(graph.width == 900);
    CHECK(graph.frame_height == 20);
    CHECK(graph.font_size == 10);
    CHECK(graph.min_width_percent == 0.5);
    CHECK(graph.inverted);
    CHECK(r.details.rate_hz == 99);
    CHECK(r.input == "-");
    CHECK(r.output == "-");
    CHECK(r.format == pyprofd::daemon::OutputFormat::svg);
    CHECK_FALSE(r.diff_before);

    auto px = options_of<RenderOptions>({"render", "--minwidth", "2", "in.folded", "-o", "out.json"});
    CHECK(px.details.flame_graph.min_width_px == 2);
    CHECK(px.input == "in.folded");
    CHECK(px.format == pyprofd::daemon::OutputFormat::speedscope);
    CHECK_FALSE(px.details.rate_hz);

    auto diff = options_of<RenderOptions>({"render", "--diff", "before.folded", "after.folded"});
    CHECK(diff.diff_before == "before.folded");
    CHECK(diff.input == "after.folded");
    CHECK(has(diff.details.flame_graph.subtitle, "red: a larger share"));
    CHECK(diff.diff_format == pyprofd::render::DiffFormat::svg);
    auto table = options_of<RenderOptions>({"render", "--diff", "--sort", "total", "--top", "5", "a", "b", "-o", "d.txt"});
    CHECK(table.diff_format == pyprofd::render::DiffFormat::text);
    CHECK(table.sort == pyprofd::render::DiffSort::total);
    CHECK(table.top == 5u);
    auto json = options_of<RenderOptions>({"render", "--diff", "-f", "json", "a", "b"});
    CHECK(json.diff_format == pyprofd::render::DiffFormat::json);
}

TEST_CASE("dump and serve: their options arrive; --listen may be given again") {
    auto d = options_of<DumpOptions>({"dump", "-p", "5", "--json"});
    CHECK(d.pid == 5);
    CHECK(d.json);
    auto s = options_of<ServeOptions>({"serve", "--config", "/etc/pyprofd/pyprofd.yaml", "--listen", "127.0.0.1:0",
                                       "--listen=unix:/run/p.sock", "--state-dir", "state"});
    CHECK(s.config_file == "/etc/pyprofd/pyprofd.yaml");
    CHECK(s.listen == std::vector<std::string>{"127.0.0.1:0", "unix:/run/p.sock"});
    CHECK(s.state_dir == "state");
    auto none = options_of<ServeOptions>({"serve"});
    CHECK(none.listen.empty());
    CHECK_FALSE(none.config_file);
    CHECK(has(usage_error({"serve", "--listen", "a:1", "b:2"}), "serve: unknown argument 'b:2'"));
}

TEST_CASE("help text is folded at spaces to the width, later lines indented") {
    CHECK(wrapped("one two three four", 9, 2) == "one two\n  three\n  four");
    CHECK(wrapped("a\nb c", 80, 0) == "a\nb c");
    CHECK(wrapped("averyveryverylongword x", 5, 0) == "averyveryverylongword\nx");
}
