// `pyprofd record --pid` against real interpreters: the shares it measures, what
// the activity options keep, aggregation by function, and its output and errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "tests/integration/record_support.hpp"

using namespace pyprofd::tests;

namespace {

void check_heavy_light_shares(const Interpreter& py, const std::vector<std::string>& extra_args) {
    Target target(py, {target_path("heavy_light.py")});
    REQUIRE(target.ready);
    ScratchDir dir;
    auto out = dir.file("p.folded");
    std::vector<std::string> args = {"--pid", std::to_string(target.pid()), "--rate", "1000", "--duration", "3", "-o", out};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto r = run_record(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    auto profile = read_folded_file(out);
    double heavy = static_cast<double>(profile.samples_containing("heavy ("));
    double light = static_cast<double>(profile.samples_containing("light ("));
    REQUIRE(heavy + light > 1000);
    double share = heavy / (heavy + light);
    // 3 points, or wider when fewer samples make chance alone wander further (a
    // slower sampler, as under the sanitizers, takes fewer): 3.5 standard deviations
    // of a 75% share estimated from this many samples.
    double tolerance = std::max(0.03, 3.5 * std::sqrt(0.75 * 0.25 / (heavy + light)));
    MESSAGE(py.label << (extra_args.empty() ? "" : " " + extra_args.front()) << ": heavy " << share * 100
                     << "%, light " << (1 - share) * 100 << "% of " << heavy + light << " samples (within "
                     << tolerance * 100 << " points?)");
    CHECK(std::abs(share - 0.75) <= tolerance);
}


}  // namespace

TEST_CASE("accuracy: a 75/25 split of CPU time comes out as 75/25 within 3 points, on every interpreter") {
    for (const auto& py : interpreters())
        SUBCASE(py.label.c_str()) { check_heavy_light_shares(py, {}); }
}

TEST_CASE("accuracy holds in blocking mode too") {
    for (const auto& py : one_of_each_frame_model())
        SUBCASE(py.label.c_str()) { check_heavy_light_shares(py, {"--blocking"}); }
}

TEST_CASE("idle threads: left out by default, kept with --idle, and --threads gives each thread its root") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("busy_and_idle.py")});
            REQUIRE(target.ready);
            ScratchDir dir;
            auto record = [&](std::vector<std::string> options) {
                auto out = dir.file("p.folded");
                std::vector<std::string> args = {"--pid", std::to_string(target.pid()), "--rate", "200",
                                                 "--duration", "0.7", "-o", out};
                args.insert(args.end(), options.begin(), options.end());
                auto r = run_record(args);
                REQUIRE_MESSAGE(r.exit_code == 0, r.err);
                return read_folded_file(out);
            };

            auto by_default = record({});
            CHECK(by_default.samples_containing("spin (") > 50);
            // It wakes once a second, and a sample may just catch it awake: rare, not never.
            // Awake, it waits for the spinner to hand over the GIL (a switch interval,
            // longer on a loaded machine or under a sanitizer): a few samples at most.
            CHECK(by_default.samples_containing("nap (") <= by_default.total / 20);

            auto with_idle = record({"--idle"});
            CHECK(with_idle.samples_containing("spin (") > 50);
            CHECK(with_idle.samples_containing("nap (") > 50);
            // Waiting time is marked: the sleeper's stacks end in <idle>, the spinner's do not.
            CHECK(with_idle.samples_where([](const std::string& s) {
                return s.find("nap (") != std::string::npos && s.ends_with(";<idle>");
            }) >= with_idle.samples_containing("nap (") * 9 / 10);
            CHECK(with_idle.samples_where([](const std::string& s) {
                return s.find("spin (") != std::string::npos && s.ends_with(";<idle>");
            }) <= with_idle.samples_containing("spin (") / 10);

            auto per_thread = record({"--idle", "--threads"});
            auto sleeper_root = "thread \"sleeper\" (";
            CHECK(per_thread.samples_where([&](const std::string& s) { return s.starts_with(sleeper_root); }) > 50);
            CHECK(per_thread.samples_where([&](const std::string& s) {
                return s.starts_with("thread \"MainThread\" (" + std::to_string(target.pid()) + ")");
            }) > 50);
            for (const auto& [stack, count] : per_thread.stacks) {
                INFO(stack);
                CHECK(stack.starts_with("thread \""));
                // nap only ever under the sleeper's root, spin under the main thread's.
                if (stack.find("nap (") != std::string::npos) CHECK(stack.starts_with(sleeper_root));
            }
        }
    }
}

TEST_CASE("--gil keeps only the thread holding the GIL: at most one stack per sample") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("busy_and_idle.py"), "two-busy"});
            REQUIRE(target.ready);
            ScratchDir dir;
            auto out = dir.file("p.folded");
            auto all = run_record({"--pid", std::to_string(target.pid()), "--rate", "200", "--duration", "0.7",
                                   "--idle", "-o", out});
            REQUIRE_MESSAGE(all.exit_code == 0, all.err);
            auto every_thread = read_folded_file(out);
            auto taken = samples_taken(all.err);
            CHECK(every_thread.total * 10 >= 25 * taken);  // three threads in nearly every sample

            auto gil = run_record({"--pid", std::to_string(target.pid()), "--rate", "200", "--duration", "0.7",
                                   "--idle", "--gil", "-o", out});
            REQUIRE_MESSAGE(gil.exit_code == 0, gil.err);
            auto holders = read_folded_file(out);
            auto gil_taken = samples_taken(gil.err);
            CHECK(holders.total <= gil_taken);
            CHECK(holders.total >= gil_taken / 2);  // someone holds it nearly always
            CHECK(holders.samples_containing("nap (") <= holders.total / 10);
        }
    }
}

TEST_CASE("--function: one frame per function, no line numbers") {
    auto pys = one_of_each_frame_model();
    REQUIRE(!pys.empty());
    for (const auto& py : pys) {
        SUBCASE(py.label.c_str()) {
            Target target(py, {target_path("heavy_light.py")});
            REQUIRE(target.ready);
            ScratchDir dir;
            auto out = dir.file("p.folded");
            auto r = run_record({"--pid", std::to_string(target.pid()), "--duration", "0.5", "--function", "-o", out});
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            auto profile = read_folded_file(out);
            REQUIRE(profile.total > 20);
            const std::regex with_line(R"(:\d+\)$)");
            for (const auto& [stack, count] : profile.stacks)
                for (const auto& frame : split_frames(stack)) {
                    INFO(frame);
                    CHECK(!std::regex_search(frame, with_line));
                }
            // heavy() calls burn() from one line, but by line each line of burn is its own frame.
            CHECK(profile.samples_containing("heavy (" + target_path("heavy_light.py") + ");burn (") > 0);
        }
    }
}

TEST_CASE("output: the last line says what was written, '-' writes to stdout, a default name otherwise") {
    auto pys = interpreters();
    REQUIRE(!pys.empty());
    Target target(pys.back(), {target_path("deep.py"), "5"});
    REQUIRE(target.ready);
    auto pid = std::to_string(target.pid());

    auto to_stdout = run_record({"--pid", pid, "--duration", "0.5", "-o", "-"});
    REQUIRE_MESSAGE(to_stdout.exit_code == 0, to_stdout.err);
    CHECK(to_stdout.out.find("leaf (" + target_path("deep.py")) != std::string::npos);
    CHECK(std::regex_match(last_line(to_stdout.err),
                           std::regex(R"(Wrote standard output: \d+ samples, 0 errors, behind schedule \d+\.\d%)")));

    ScratchDir dir;
    auto r = run_command({.argv = {pyprofd_binary(), "record", "--pid", pid, "--duration", "0.3"}, .cwd = dir.path.string()});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<std::string> written;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path))
        written.push_back(entry.path().filename().string());
    REQUIRE(written.size() == 1);
    CHECK(std::regex_match(written[0], std::regex("pyprofd-" + pid + R"(-\d{8}-\d{6}\.svg)")));
    CHECK(std::regex_match(last_line(r.err), std::regex("Wrote " + written[0] +
                                                        R"(: \d+ samples, 0 errors, behind schedule \d+\.\d%)")));
    CHECK(samples_taken(r.err) >= 25);
    // The default is the flame graph, well-formed, with the target in its title.
    auto lint = run_command({.argv = {"xmllint", "--noout", dir.file(written[0])}});
    CHECK_MESSAGE(lint.exit_code == 0, lint.err);
    std::ifstream svg_file(dir.file(written[0]));
    std::string svg;
    std::getline(svg_file, svg, '\0');
    CHECK(svg.find("<text id=\"title\"") != std::string::npos);
    CHECK(svg.find("leaf (" + target_path("deep.py") + ":") != std::string::npos);
}

TEST_CASE("a target with more threads than the descriptor limit: every thread is sampled and the profile written") {
    // record keeps each thread's /proc file open from sample to sample, but only as
    // many as a quarter of its descriptor limit (here 128, soft and hard): past that,
    // the output file could not be opened (the profile would be lost) and nor could
    // the next thread's.
    auto pys = interpreters();
    REQUIRE(!pys.empty());
    Target target(pys.back(), {target_path("parked_threads.py"), "300"});
    REQUIRE(target.ready);
    ScratchDir dir;
    auto out = dir.file("p.folded");
    auto r = run_command({.argv = {"prlimit", "--nofile=128", "--", pyprofd_binary(), "record", "--pid",
                                   std::to_string(target.pid()), "--idle", "--rate", "20", "--duration", "1", "-o",
                                   out}},
                         std::chrono::seconds(90));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(std::regex_match(last_line(r.err), std::regex(R"(Wrote .*: \d+ samples, 0 errors, behind schedule .*)")));
    auto profile = read_folded_file(out);
    auto samples = samples_taken(r.err);
    MESSAGE(samples << " samples of 301 threads: " << profile.total << " stacks");
    CHECK(samples >= 5);
    // Every thread in every sample: the main thread and the 300 parked ones.
    CHECK(profile.total == samples * 301);
}

TEST_CASE("bad arguments and targets get one clear line and a non-zero exit") {
    struct Case {
        std::vector<std::string> args;
        int exit_code;
        std::string message;
    };
    const Case cases[] = {
        {{"--pid", "1", "--rate", "0"}, 2, "--rate takes samples per second from 1 to 100000, not '0'"},
        {{"--pid", "1", "--rate", "fast"}, 2, "not 'fast'"},
        {{"--pid", "1", "--rate", "nan"}, 2, "not 'nan'"},
        {{"--pid", "1", "--duration", "-1"}, 2, "--duration takes seconds (more than 0), not '-1'"},
        {{"--pid", "1", "-o", "x.png"}, 2, "cannot tell the format from the name 'x.png'"},
        {{"--pid", "1", "--format", "png"}, 2, "--format takes one of"},
        {{"--pid", "1", "--blocking", "--nonblocking"}, 2, "--blocking excludes --nonblocking"},
        {{"--pid", "1", "--", "python3"}, 2, "either --pid or a program"},
        {{"--rate", "10"}, 2, "record needs --pid PID or a program"},
        {{"--"}, 2, "'--' must be followed by the program"},
        {{"--pid", "1", "--colour"}, 2, "unknown argument '--colour'"},
        {{"--pid", "4194303"}, 1, "no process with PID 4194303"},
        {{"--", "pyprofd-no-such-program"}, 1, "cannot run 'pyprofd-no-such-program': no such program on PATH"},
        {{"--", "/bin/sh", "-c", "exit 3"}, 1, "the program exited with status 3 before pyprofd could read its Python"},
    };
    for (const auto& c : cases) {
        std::string name;
        for (const auto& a : c.args) name += a + " ";
        SUBCASE(name.c_str()) {
            auto r = run_record(c.args);
            CHECK(r.exit_code == c.exit_code);
            INFO(r.err);
            CHECK(r.err.find(c.message) != std::string::npos);
        }
    }
}

TEST_CASE("progress: off a terminal, a plain line every 5 s with time, samples and errors") {
    auto pys = interpreters();
    REQUIRE(!pys.empty());
    Target target(pys.back(), {target_path("deep.py"), "5"});
    REQUIRE(target.ready);
    ScratchDir dir;
    auto r = run_record({"--pid", std::to_string(target.pid()), "--duration", "5.6", "-o", dir.file("p.folded")});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    INFO(r.err);
    CHECK(std::regex_search(r.err, std::regex(R"((^|\n)5\.\d/5\.6s \[#+ *\] \d+ samples, 0 errors\n)")));
    CHECK(r.err.find('\r') == std::string::npos);  // no bar redrawing into a log
}

TEST_CASE("the folded file's header names the target's sources: its version, working directory and standard library") {
    for (const auto& py : interpreters()) {
        SUBCASE(py.label.c_str()) {
            ScratchDir dir;  // under /tmp, which a chrooted one sees at the same path
            std::filesystem::create_directory(dir.path / "app");
            const std::string cwd = (dir.path / "app").string();
            Target target(py, {target_path("prints_sources.py")}, cwd);
            REQUIRE(target.ready);
            auto said = [&](const std::string& name) {
                const auto& output = target.child.output();
                auto start = output.find(name + "=");
                REQUIRE(start != std::string::npos);
                start += name.size() + 1;
                return output.substr(start, output.find('\n', start) - start);
            };
            auto out = dir.file("p.folded");
            // It sleeps: --idle, so that its stacks are there too.
            auto r = run_record({"--pid", std::to_string(target.pid()), "--duration", "0.3", "--idle", "-o", out});
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            auto profile = read_folded_file(out);
            REQUIRE(profile.metadata.size() == 2);
            CHECK(profile.metadata[0] == "# pyprofd folded stacks: lines starting with '#' are metadata");
            REQUIRE(profile.metadata[1].starts_with("# source: "));
            auto source = nlohmann::json::parse(profile.metadata[1].substr(10));
            CHECK(source["pid"] == target.pid());
            CHECK(source["python"].get<std::string>().starts_with(std::to_string(py.major) + "." +
                                                                  std::to_string(py.minor) + "."));
            CHECK(source["cwd"] == said("cwd"));
            CHECK(source["stdlib"] == said("stdlib"));
            CHECK(profile.samples_containing("prints_sources.py") > 0);
            // The header first, before every stack.
            std::ifstream in(out);
            std::string first;
            std::getline(in, first);
            CHECK(first == profile.metadata[0]);
        }
    }
}
