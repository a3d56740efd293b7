// The flame graph and pprof writers give, byte for byte, what they gave when these
// files were written (tests/render/golden/): splitting or speeding up a writer must
// not change one byte of its output. The graph's script is left out of the
// comparison (its own tests cover it), so that changing it does not touch these.
//
// After a change of output that is meant, write the files again with
// PYPROFD_UPDATE_GOLDEN=1 and look at the difference before committing it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "render/flame_graph.hpp"
#include "render/pprof.hpp"
#include "render/profile.hpp"
#include "tests/support/child_process.hpp"

using namespace pyprofd;
using namespace pyprofd::render;

namespace {

// Threads, shared prefixes, names that need escaping, a long label to cut, idle
// time, and frames narrow enough to be left out.
Profile busy_program() {
    Profile profile;
    auto add = [&](std::vector<std::string> stack, std::uint64_t count) { profile.add_labels(stack, count); };
    add({"thread \"MainThread\" (100)", "<module> (app.py:1)", "main (app.py:10)", "handle (app.py:20)"}, 60);
    add({"thread \"MainThread\" (100)", "<module> (app.py:1)", "main (app.py:10)", "parse (app.py:30)"}, 25);
    add({"thread \"MainThread\" (100)", "<module> (app.py:1)", "main (app.py:10)",
         "render<T> & \"quote\" (tmpl/名前.py:7)"},
        10);
    add({"thread \"MainThread\" (100)", "<module> (app.py:1)",
         "a_function_with_a_very_long_name_that_will_not_fit_in_its_box_at_all_whatever_the_width "
         "(/usr/lib/python3.11/site-packages/some/deep/package/module.py:12345)"},
        3);
    add({"thread \"worker-1\" (101)", "Thread.run (threading.py:975)", "work (jobs.py:5)", "<idle>"}, 40);
    add({"thread \"worker-1\" (101)", "Thread.run (threading.py:975)", "tiny (jobs.py:9)"}, 1);
    return profile;
}

Profile before_change() {
    Profile profile;
    auto add = [&](std::vector<std::string> stack, std::uint64_t count) { profile.add_labels(stack, count); };
    add({"thread \"MainThread\" (100)", "<module> (app.py:1)", "main (app.py:10)", "handle (app.py:20)"}, 20);
    add({"thread \"MainThread\" (100)", "<module> (app.py:1)", "main (app.py:10)", "parse (app.py:30)"}, 70);
    add({"thread \"worker-1\" (101)", "Thread.run (threading.py:975)", "work (jobs.py:5)", "<idle>"}, 50);
    return profile;
}

std::string without_script(std::string svg) {
    const std::string open = "<![CDATA[", close = "]]>";
    auto begin = svg.find(open);
    auto end = svg.find(close, begin);
    if (begin != std::string::npos && end != std::string::npos)
        svg.replace(begin + open.size(), end - begin - open.size(), "(the script)");
    return svg;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void check_golden(const std::string& name, const std::string& output) {
    auto path = tests::source_path("tests/render/golden/" + name);
    if (const char* update = std::getenv("PYPROFD_UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(path, std::ios::binary) << output;
        MESSAGE("wrote " << path);
        return;
    }
    auto expected = read_file(path);
    REQUIRE_MESSAGE(!expected.empty(), "no golden file " << path << " (PYPROFD_UPDATE_GOLDEN=1 writes it)");
    if (output != expected) {
        std::size_t at = 0;
        while (at < output.size() && at < expected.size() && output[at] == expected[at]) ++at;
        FAIL_CHECK(name << " differs from its golden file from byte " << at << " on: got\n"
                        << output.substr(at, 200) << "\nexpected\n"
                        << expected.substr(at, 200));
    }
}

std::string flame_graph(const Profile& profile, const FlameGraphOptions& options) {
    std::ostringstream out;
    write_flame_graph(profile, options, out);
    return without_script(out.str());
}

}  // namespace

TEST_CASE("a flame graph is what it was, byte for byte") {
    auto profile = busy_program();
    FlameGraphOptions options;
    options.title = "Busy & <busier>";
    options.min_width_px = 5;
    check_golden("flame_graph.svg", flame_graph(profile, options));
}

TEST_CASE("an inverted differential flame graph with a subtitle is what it was, byte for byte") {
    auto profile = busy_program();
    auto baseline = before_change();
    FlameGraphOptions options;
    options.subtitle = "process 100 (Python 3.11), 100 Hz, 1.4 s";
    options.width = 900;
    options.inverted = true;
    options.search = "handle";
    options.unit = "ms";
    options.min_width_percent = 1.0;
    options.baseline = &baseline;
    check_golden("flame_graph_differential.svg", flame_graph(profile, options));
}

TEST_CASE("a pprof message is what it was, byte for byte") {
    auto profile = busy_program();
    check_golden("pprof_counts.pb", pprof_message(profile, {}));
    check_golden("pprof_timed.pb", pprof_message(profile, {.rate_hz = 97,
                                                           .wall_clock = true,
                                                           .start_unix_ns = 1'700'000'000'000'000'000,
                                                           .duration_ns = 1'400'000'000,
                                                           .comment = "process 100 (Python 3.11)"}));
}
