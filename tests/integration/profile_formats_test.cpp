// speedscope and pprof output, read back by readers that are not ours (npm's
// pprof-format, and speedscope's own JSON schema through ajv; tests/readers), with
// every stack and count compared to the input; and the differential flame graph.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/integration/record_support.hpp"
#include "tests/support/interpreters.hpp"

using namespace pyprofd::tests;
using nlohmann::json;

namespace {

// Fails (never skips) when the readers are not installed: `make test-deps` installs them.
json read_with_independent_reader(const std::string& kind, const std::string& path) {
    auto readers = source_path("tests/readers");
    REQUIRE_MESSAGE(std::filesystem::exists(readers + "/node_modules/pprof-format"),
                    "the independent readers are not installed: run scripts/install-test-readers (make test-deps)");
    auto r = run_command({.argv = {"node", readers + "/read_profile.mjs", kind, path}});
    REQUIRE_MESSAGE(r.exit_code == 0, kind << " reader rejected " << path << ": " << r.err);
    return json::parse(r.out);
}

CommandResult run_pyprofd(std::vector<std::string> args) {
    args.insert(args.begin(), pyprofd_binary());
    return run_command({.argv = args});
}

// Threads, a line-less frame, native frames, names that need escaping, UTF-8.
const std::string threaded_input =
    "thread \"MainThread\" (4242);<module> (/srv/app.py:30);main (/srv/app.py:25);heavy (/srv/app.py:10) 750\n"
    "thread \"MainThread\" (4242);<module> (/srv/app.py:30);main (/srv/app.py:26);light (/srv/app.py:15) 250\n"
    "thread \"MainThread\" (4242);<module> (/srv/app.py:30);main (/srv/app.py:25) 5\n"
    "thread \"worker \\\"1\\\" & co\" (4243);run (/usr/lib/python3.11/threading.py:982);計算する (/srv/名前.py:7) 120\n"
    "thread \"worker \\\"1\\\" & co\" (4243);run (/usr/lib/python3.11/threading.py:982);<lambda> (/srv/a&b.py) 3\n"
    "thread (4250);poll;[libc.so.6] 7\n";

const std::string unthreaded_input =
    "<module> (app.py:1);main (app.py:9);work (app.py:3) 30\n"
    "<module> (app.py:1);main (app.py:9) 10\n"
    "process_a;[libc.so.6];malloc 5\n";

std::map<std::string, std::uint64_t> folded_counts(const std::string& text) {
    std::map<std::string, std::uint64_t> counts;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto space = line.rfind(' ');
        counts[line.substr(0, space)] += std::stoull(line.substr(space + 1));
    }
    return counts;
}

std::string joined(const json& frames, std::string prefix = {}) {
    for (const auto& f : frames) {
        if (!prefix.empty()) prefix += ';';
        prefix += f.get<std::string>();
    }
    return prefix;
}

// The stacks pprof holds, with the thread labels turned back into pyprofd's root frame.
std::map<std::string, std::uint64_t> pprof_counts(const json& profile, std::size_t value_index = 0) {
    std::map<std::string, std::uint64_t> counts;
    for (const auto& s : profile["stacks"]) {
        std::string root;
        if (s["labels"].contains("thread_id")) {
            auto tid = s["labels"]["thread_id"].get<long>();
            root = s["labels"].contains("thread_name")
                       ? "thread \"" + s["labels"]["thread_name"].get<std::string>() + "\" (" + std::to_string(tid) + ")"
                       : "thread (" + std::to_string(tid) + ")";
        }
        counts[joined(s["frames"], root)] += s["values"][value_index].get<std::uint64_t>();
    }
    return counts;
}

std::map<std::string, double> speedscope_weights(const json& file) {
    std::map<std::string, double> weights;
    for (const auto& p : file["profiles"]) {
        auto name = p["name"].get<std::string>();
        bool thread = name.starts_with("thread ");
        for (const auto& s : p["stacks"]) weights[joined(s["frames"], thread ? name : "")] += s["weight"].get<double>();
    }
    return weights;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text;
    std::getline(in, text, '\0');
    return text;
}

}  // namespace

TEST_CASE("pprof: every stack and count of the input, threads as labels, read by pprof-format") {
    ScratchDir dir;
    std::ofstream(dir.file("in.folded")) << threaded_input;
    SUBCASE("without a rate: one sample type, samples/count, period 1") {
        auto r = run_pyprofd({"render", dir.file("in.folded"), "-o", dir.file("p.pb.gz")});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto p = read_with_independent_reader("pprof", dir.file("p.pb.gz"));
        CHECK(p["sample_types"] == json::parse(R"([["samples","count"]])"));
        CHECK(p["period_type"] == json::parse(R"(["samples","count"])"));
        CHECK(p["period"] == 1);
        CHECK(pprof_counts(p) == folded_counts(threaded_input));
        // One function per (name, file), whatever lines it was seen at; its start
        // line the smallest seen.
        int mains = 0;
        for (const auto& f : p["functions"])
            if (f["name"] == "main") {
                ++mains;
                CHECK(f["startLine"] == 25);
            }
        CHECK(mains == 1);
    }
    SUBCASE("with --rate: a cpu/nanoseconds value and the period") {
        auto r = run_pyprofd({"render", "--format", "pprof", "--rate", "250", "--subtitle", "process 4242, Python 3.11",
                          dir.file("in.folded"), "-o", dir.file("p.out")});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto p = read_with_independent_reader("pprof", dir.file("p.out"));
        CHECK(p["sample_types"] == json::parse(R"([["samples","count"],["cpu","nanoseconds"]])"));
        CHECK(p["period_type"] == json::parse(R"(["cpu","nanoseconds"])"));
        CHECK(p["period"] == 4'000'000);
        CHECK(p["default_sample_type"] == "cpu");
        CHECK(p["comments"] == json::parse(R"(["process 4242, Python 3.11"])"));
        auto counts = folded_counts(threaded_input);
        CHECK(pprof_counts(p, 0) == counts);
        for (auto& [stack, n] : counts) n *= 4'000'000;
        CHECK(pprof_counts(p, 1) == counts);
    }
}

TEST_CASE("speedscope: valid against speedscope's schema, a profile per thread over shared frames") {
    ScratchDir dir;
    std::ofstream(dir.file("in.folded")) << threaded_input;
    SUBCASE("counts as weights without a rate") {
        auto r = run_pyprofd({"render", dir.file("in.folded"), "-o", dir.file("p.json"), "--title", "svc"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto s = read_with_independent_reader("speedscope", dir.file("p.json"));
        CHECK(s["name"] == "svc");
        REQUIRE(s["profiles"].size() == 3);
        CHECK(s["profiles"][0]["name"] == "thread \"MainThread\" (4242)");
        CHECK(s["profiles"][1]["name"] == "thread \"worker \\\"1\\\" & co\" (4243)");
        CHECK(s["profiles"][2]["name"] == "thread (4250)");
        CHECK(s["profiles"][0]["unit"] == "none");
        // Shared: run (threading.py:982) is one frame, not one per thread.
        CHECK(s["frame_count"] == 10);
        std::map<std::string, double> expected;
        for (auto [stack, n] : folded_counts(threaded_input)) expected[stack] = static_cast<double>(n);
        CHECK(speedscope_weights(s) == expected);
    }
    SUBCASE("milliseconds with --rate") {
        auto r = run_pyprofd({"render", "-f", "speedscope", "--rate", "200", dir.file("in.folded")});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        std::ofstream(dir.file("out.json")) << r.out;
        auto s = read_with_independent_reader("speedscope", dir.file("out.json"));
        CHECK(s["profiles"][0]["unit"] == "milliseconds");
        std::map<std::string, double> expected;
        for (auto [stack, n] : folded_counts(threaded_input)) expected[stack] = static_cast<double>(n) * 5.0;
        auto got = speedscope_weights(s);
        REQUIRE(got.size() == expected.size());
        for (const auto& [stack, w] : expected) CHECK(got[stack] == doctest::Approx(w));
    }
    SUBCASE("stacks outside any thread make one profile named after the file") {
        std::ofstream(dir.file("plain.folded")) << unthreaded_input;
        auto r = run_pyprofd({"render", "-f", "speedscope", dir.file("plain.folded"), "-o", dir.file("plain.json")});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto s = read_with_independent_reader("speedscope", dir.file("plain.json"));
        REQUIRE(s["profiles"].size() == 1);
        CHECK(s["profiles"][0]["name"] == "Flame Graph");
        std::map<std::string, double> expected;
        for (auto [stack, n] : folded_counts(unthreaded_input)) expected[stack] = static_cast<double>(n);
        CHECK(speedscope_weights(s) == expected);
    }
}

TEST_CASE("record writes speedscope and pprof of a real target, a profile or label per thread") {
    auto python = one_of_each_frame_model().back();
    ChildProcess target({.argv = {python.executable, source_path("tests/targets/heavy_light.py")}});
    REQUIRE(target.wait_for_line("READY"));
    ScratchDir dir;
    for (std::string name : {"p.json", "p.pb.gz"}) {
        CAPTURE(name);
        auto r = run_record({"--pid", std::to_string(target.pid()), "--rate", "200", "--duration", "1", "-o",
                             dir.file(name)});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        auto taken = samples_taken(r.err);
        std::map<std::string, std::uint64_t> counts;
        if (name.ends_with(".json")) {
            auto s = read_with_independent_reader("speedscope", dir.file(name));
            REQUIRE(s["profiles"].size() == 1);  // one thread
            CHECK(s["profiles"][0]["name"].get<std::string>().starts_with("thread \"MainThread\""));
            CHECK(s["profiles"][0]["unit"] == "milliseconds");
            for (auto [stack, w] : speedscope_weights(s)) counts[stack] = static_cast<std::uint64_t>(std::lround(w / 5.0));
        } else {
            auto p = read_with_independent_reader("pprof", dir.file(name));
            CHECK(p["period"] == 5'000'000);
            CHECK(p["duration_nanos"].get<double>() >= 0.9e9);
            CHECK(p["time_nanos"].get<double>() > 1.7e18);
            counts = pprof_counts(p);
        }
        std::uint64_t total = 0, heavy = 0;
        for (const auto& [stack, n] : counts) {
            total += n;
            if (stack.find("heavy (") != std::string::npos) heavy += n;
            CHECK_MESSAGE(stack.starts_with("thread \"MainThread\" (" + std::to_string(target.pid()) + ")"), stack);
        }
        // The busy thread is in nearly every sample; heavy() in most of them.
        CHECK(total <= taken);
        CHECK(total >= taken * 9 / 10);
        CHECK(heavy > total / 2);
    }
}

TEST_CASE("differential flame graph: after's shape, coloured and described by the change in share") {
    ScratchDir dir;
    // before: 1000 samples, after: 500. work's share grows 50% -> 80%, other's falls
    // 40% -> 10%, steady stays 10%; gone only exists before, new only after.
    std::ofstream(dir.file("before.folded")) << "main;work 500\nmain;other 400\nmain;steady 100\n";
    std::ofstream(dir.file("after.folded")) << "main;work 400\nmain;other 50\nmain;steady 50\n";
    auto r = run_pyprofd({"render", "--diff", dir.file("before.folded"), dir.file("after.folded"), "-o", dir.file("d.svg")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto lint = run_command({.argv = {"xmllint", "--noout", dir.file("d.svg")}});
    CHECK_MESSAGE(lint.exit_code == 0, lint.err);
    auto svg = read_file(dir.file("d.svg"));
    CHECK(svg.find("data-baseline-total=\"1000\"") != std::string::npos);
    CHECK(svg.find("red: a larger share") != std::string::npos);

    auto frame = [&](const std::string& name) {
        std::smatch m;
        std::regex re("<g [^>]*data-n=\"(\\d+)\"[^>]*data-b=\"(\\d+)\"><title>" + name +
                      "\\n[^<]*\\nbefore ([^<]*)</title><rect [^>]*fill=\"rgb\\((\\d+),(\\d+),(\\d+)\\)\"");
        REQUIRE_MESSAGE(std::regex_search(svg, m, re), "no frame " << name);
        return std::vector<std::string>{m[1], m[2], m[3], m[4], m[5], m[6]};
    };
    auto work = frame("work");
    CHECK(work[0] == "400");
    CHECK(work[1] == "500");
    CHECK(work[2] == "500 (50.00%), after 400 (80.00%): +30.00 points");
    CHECK(work == std::vector<std::string>{"400", "500", work[2], "255", "55", "55"});  // the largest change: full red
    auto other = frame("other");
    CHECK(other[2] == "400 (40.00%), after 50 (10.00%): -30.00 points");
    CHECK((other[3] == "55" && other[4] == "55" && other[5] == "255"));  // full blue
    auto steady = frame("steady");
    CHECK(steady[2] == "100 (10.00%), after 50 (10.00%): +0.00 points");
    CHECK((steady[3] == "255" && steady[4] == "255" && steady[5] == "255"));  // white
    auto main = frame("main");
    CHECK(main[2] == "1000 (100.00%), after 500 (100.00%): +0.00 points");

    // A stack only in after is compared with 0 samples before.
    std::ofstream(dir.file("after2.folded")) << "main;work 400\nmain;new 100\n";
    r = run_pyprofd({"render", "--diff", dir.file("before.folded"), dir.file("after2.folded")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("<title>new\n100 samples (20.00%)\nbefore 0 (0.00%), after 100 (20.00%): +20.00 points</title>") !=
          std::string::npos);
}

TEST_CASE("render --diff --format text and json: a table of functions matched across Python 2.7 and 3.11") {
    ScratchDir dir;
    // py-spy-like stacks of one service, as 2.7 and 3.11 name its frames.
    std::ofstream(dir.file("27.folded"))
        << "serve_forever (/usr/lib/python2.7/SocketServer.py:236);app (svc.py:5);render_report (svc.py:10) 100\n"
           "serve_forever (/usr/lib/python2.7/SocketServer.py:236);app (svc.py:5);render_summary (svc.py:20) 100\n";
    std::ofstream(dir.file("311.folded"))
        << "BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:233);app (/srv/svc.py:5);"
           "render_report (/srv/svc.py:10) 100\n"
           "BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:233);app (/srv/svc.py:5);"
           "render_report (/srv/svc.py:11);normalize_rows (/srv/svc.py:30) 100\n"
           "BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:233);app (/srv/svc.py:5);"
           "render_summary (/srv/svc.py:20) 100\n";
    auto text = run_pyprofd({"render", "--diff", "--format", "text", dir.file("27.folded"), dir.file("311.folded")});
    REQUIRE_MESSAGE(text.exit_code == 0, text.err);
    CHECK(text.out.find("before: " + dir.file("27.folded") + ": 200 samples") != std::string::npos);
    CHECK(text.out.find("after:  " + dir.file("311.folded") + ": 300 samples") != std::string::npos);
    auto header = text.out.find("function (file)\n");
    REQUIRE(header != std::string::npos);
    auto first = text.out.substr(header + 16, text.out.find('\n', header + 16) - header - 16);
    // No header says where 3.11 ran: its absolute path is the one 2.7's relative one ends.
    CHECK(first == "       -   33.33%   +33.33   +33.33  normalize_rows (/srv/svc.py)");
    CHECK(text.out.find(" 100.00%  100.00%    +0.00    +0.00  BaseServer.serve_forever (<stdlib>/socketserver.py)") !=
          std::string::npos);

    auto by_total = run_pyprofd({"render", "--diff", "--sort", "total", "--top", "2", dir.file("27.folded"),
                             dir.file("311.folded"), "-o", dir.file("d.json")});
    REQUIRE_MESSAGE(by_total.exit_code == 0, by_total.err);
    auto doc = nlohmann::json::parse(read_file(dir.file("d.json")));
    CHECK(doc["sort"] == "total");
    REQUIRE(doc["rows"].size() == 2);
    CHECK(doc["rows_total"] == 5);
    CHECK(doc["rows"][0]["function"] == "normalize_rows");
    CHECK(doc["rows"][0]["before_total"].is_null());
    CHECK(doc["rows"][1]["function"] == "render_report");
    auto txt = run_pyprofd({"render", "--diff", dir.file("27.folded"), dir.file("311.folded"), "-o", dir.file("d.txt")});
    REQUIRE_MESSAGE(txt.exit_code == 0, txt.err);
    CHECK(read_file(dir.file("d.txt")).starts_with("Differential profile"));
}

TEST_CASE("render: format and --diff errors say what is wrong") {
    ScratchDir dir;
    std::ofstream(dir.file("a.folded")) << unthreaded_input;
    auto one = run_pyprofd({"render", "--diff", dir.file("a.folded")});
    CHECK(one.exit_code == 2);
    CHECK(one.err.find("render --diff compares two folded files") != std::string::npos);
    auto not_svg = run_pyprofd({"render", "--diff", dir.file("a.folded"), dir.file("a.folded"), "-f", "pprof"});
    CHECK(not_svg.exit_code == 2);
    CHECK(not_svg.err.find("render --diff writes svg (a graph), text or json (a table), not 'pprof'") != std::string::npos);
    auto sort_alone = run_pyprofd({"render", "--sort", "total", dir.file("a.folded")});
    CHECK(sort_alone.exit_code == 2);
    CHECK(sort_alone.err.find("--sort orders the table of render --diff") != std::string::npos);
    auto sort_graph = run_pyprofd({"render", "--diff", "--top", "3", dir.file("a.folded"), dir.file("a.folded")});
    CHECK(sort_graph.exit_code == 2);
    CHECK(sort_graph.err.find("use --format text or json") != std::string::npos);
    auto bad_sort = run_pyprofd({"render", "--diff", "--sort", "name", dir.file("a.folded"), dir.file("a.folded")});
    CHECK(bad_sort.exit_code == 2);
    CHECK(bad_sort.err.find("--sort takes self or total, not 'name'") != std::string::npos);
    auto bad_name = run_pyprofd({"render", "--diff", dir.file("a.folded"), dir.file("a.folded"), "-o", dir.file("d.pb.gz")});
    CHECK(bad_name.exit_code == 2);
    CHECK(bad_name.err.find("render --diff writes svg, text or json") != std::string::npos);
    auto two = run_pyprofd({"render", dir.file("a.folded"), dir.file("a.folded")});
    CHECK(two.exit_code == 2);
    CHECK(two.err.find("--diff compares two") != std::string::npos);
    auto rate = run_pyprofd({"render", "--rate", "0", dir.file("a.folded")});
    CHECK(rate.exit_code == 2);
    CHECK(rate.err.find("--rate") != std::string::npos);
    auto unknown = run_pyprofd({"render", "-f", "json", dir.file("a.folded")});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("svg, folded, speedscope, pprof") != std::string::npos);
    auto missing = run_pyprofd({"render", "--diff", dir.file("nope.folded"), dir.file("a.folded")});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("cannot read " + dir.file("nope.folded")) != std::string::npos);
}

TEST_CASE("a worker tree's profile: the process roots stay in pprof and speedscope, as the readers see them") {
    ScratchDir dir;
    const std::string tree_input =
        "process 10 (gunicorn: master);thread (10);run (/usr/lib/python3/gunicorn/arbiter.py:209) 4\n"
        "process 11 (gunicorn: worker (1));thread (11);hello_world (/srv/flask_app.py:14) 30\n"
        "process 12 (gunicorn: worker (2));thread \"t\" (13);hello_world (/srv/flask_app.py:14) 20\n";
    std::ofstream(dir.file("in.folded")) << tree_input;
    auto r = run_pyprofd({"render", dir.file("in.folded"), "-o", dir.file("p.pb.gz")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto p = read_with_independent_reader("pprof", dir.file("p.pb.gz"));
    std::map<std::string, std::uint64_t> by_process;
    for (const auto& s : p["stacks"]) {
        REQUIRE(s["labels"].contains("pid"));
        REQUIRE(s["labels"].contains("thread_id"));
        CHECK(s["frames"][0].get<std::string>().starts_with("process " + std::to_string(s["labels"]["pid"].get<long>()) + " ("));
        by_process[s["frames"][0].get<std::string>()] += s["values"][0].get<std::uint64_t>();
    }
    CHECK(by_process == std::map<std::string, std::uint64_t>{{"process 10 (gunicorn: master)", 4},
                                                             {"process 11 (gunicorn: worker (1))", 30},
                                                             {"process 12 (gunicorn: worker (2))", 20}});
    r = run_pyprofd({"render", dir.file("in.folded"), "-o", dir.file("s.json")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto s = read_with_independent_reader("speedscope", dir.file("s.json"));
    std::vector<std::string> names;
    for (const auto& profile : s["profiles"]) {
        names.push_back(profile["name"].get<std::string>());
        for (const auto& stack : profile["stacks"])
            CHECK(profile["name"].get<std::string>().starts_with(stack["frames"][0].get<std::string>() + " thread"));
    }
    CHECK(names == std::vector<std::string>{"process 10 (gunicorn: master) thread (10)",
                                            "process 11 (gunicorn: worker (1)) thread (11)",
                                            "process 12 (gunicorn: worker (2)) thread \"t\" (13)"});
}
