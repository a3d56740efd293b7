#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "render/diff_table.hpp"
#include "render/differential.hpp"

using namespace pyprofd::render;

namespace {

using Stack = std::vector<std::string>;

// A service under 2.7 (before) and 3.11 (after): under 3.11, render_report also calls
// the planted normalize_rows, which costs as much again as render_report's own work.
struct Runs {
    Profile before, after;
    ProfileSources before_sources{{.python_version = "2.7.18", .working_directory = "/srv"}};
    ProfileSources after_sources{{.python_version = "3.11.7", .working_directory = "/srv"}};
    Runs() {
        before.add_labels(Stack{"serve_forever (/usr/lib/python2.7/SocketServer.py:1)", "app (svc.py:5)",
                                "render_report (svc.py:10)"},
                          100);
        before.add_labels(Stack{"serve_forever (/usr/lib/python2.7/SocketServer.py:1)", "app (svc.py:5)",
                                "render_summary (svc.py:20)"},
                          100);
        before.add_labels(Stack{"serve_forever (/usr/lib/python2.7/SocketServer.py:1)"}, 50);
        after.add_labels(Stack{"BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:1)", "app (/srv/svc.py:5)",
                               "render_report (/srv/svc.py:10)"},
                         200);
        after.add_labels(Stack{"BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:1)", "app (/srv/svc.py:5)",
                               "render_report (/srv/svc.py:11)", "normalize_rows (/srv/svc.py:30)"},
                         200);
        after.add_labels(Stack{"BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:1)", "app (/srv/svc.py:5)",
                               "render_summary (/srv/svc.py:20)"},
                         200);
        after.add_labels(Stack{"BaseServer.serve_forever (/usr/lib/python3.11/socketserver.py:1)"}, 100);
    }
    DiffTable table(DiffSort sort = DiffSort::self) {
        return diff_table(match_profiles(before, before_sources, after, after_sources), sort,
                          {"27.folded", python_versions_of(before_sources)}, {"311.folded", python_versions_of(after_sources)});
    }
};

const DiffRow& row(const DiffTable& t, const std::string& function) {
    for (const auto& r : t.rows)
        if (r.function == function) return r;
    FAIL("no row " << function);
    static DiffRow none;
    return none;
}

}  // namespace

TEST_CASE("the planted function is the top row by self share; its callers and sibling rank below it") {
    Runs runs;
    auto t = runs.table();
    REQUIRE(!t.rows.empty());
    CHECK(t.rows[0].function == "normalize_rows");
    CHECK(t.rows[0].file == "svc.py");
    CHECK(!t.rows[0].before_total);
    CHECK(*t.rows[0].after_total == doctest::Approx(200.0 / 7));
    CHECK(t.rows[0].self_change == doctest::Approx(200.0 / 7));
    // Shares: render_summary was 100/250 = 40% and is 200/700 = 28.6%: it shrank,
    // though its samples doubled.
    const auto& summary = row(t, "render_summary");
    CHECK(*summary.before_total == doctest::Approx(40.0));
    CHECK(*summary.after_total == doctest::Approx(200.0 / 7));
    CHECK(std::abs(summary.self_change) < t.rows[0].self_change / 2);
    // The server frames both share are matched rows, under the qualified name.
    const auto& serve = row(t, "BaseServer.serve_forever");
    CHECK(serve.file == "<stdlib>/socketserver.py");
    CHECK(serve.before_total);
    CHECK(serve.after_total);
    CHECK(*serve.before_total == doctest::Approx(100.0));
    CHECK(t.matched_functions == 4);
    CHECK(t.after_functions == 5);
    CHECK(t.after_samples_matched_percent == doctest::Approx(500.0 / 7));
    CHECK(t.before_samples == 250);
    CHECK(t.after_samples == 700);
}

TEST_CASE("--sort total ranks by inclusive change: callers rise level with what they call") {
    Runs runs;
    auto t = runs.table(DiffSort::total);
    CHECK(t.sort == DiffSort::total);
    for (std::size_t i = 1; i < t.rows.size(); ++i) CHECK(t.rows[i - 1].total_change >= t.rows[i].total_change);
    // render_report: 40% -> 57.1% with what it calls, second only to the planted
    // function; by self share it shrank (40% -> 28.6%) and ranks low.
    CHECK(t.rows[0].function == "normalize_rows");
    CHECK(t.rows[1].function == "render_report");
    auto by_self = runs.table();
    CHECK(by_self.rows[1].function != "render_report");
    CHECK(row(by_self, "render_report").self_change == doctest::Approx(200.0 / 7 - 40));
}

TEST_CASE("equal changes put the larger function first, so --top keeps it") {
    Profile same;
    same.add_labels(Stack{"main (app.py:1)", "work (app.py:5)", "burn (app.py:9)"}, 60);
    same.add_labels(Stack{"main (app.py:1)", "idle (app.py:7)"}, 40);
    same.add_labels(Stack{"main (app.py:1)", "Random.uniform (/usr/lib/python3.11/random.py:1)"}, 1);
    ProfileSources sources{{.python_version = "3.11.7", .working_directory = "/srv"}};
    for (auto sort : {DiffSort::self, DiffSort::total}) {
        auto t = diff_table(match_profiles(same, sources, same, sources), sort, {"a", {}}, {"a", {}});
        REQUIRE(t.rows.size() == 5);
        for (const auto& r : t.rows) CHECK(r.total_change == 0);
        for (std::size_t i = 1; i < t.rows.size(); ++i)
            CHECK(t.rows[i - 1].after_total.value_or(0) >= t.rows[i].after_total.value_or(0));
        CHECK(t.rows[0].function == "main");
        CHECK(t.rows.back().function == "Random.uniform");
    }
}

TEST_CASE("the text table: a header naming both profiles, then before, after, change, self change, function") {
    Runs runs;
    std::ostringstream out;
    write_diff_text(runs.table(), out);
    auto text = out.str();
    CHECK(text.find("Shares, not counts") != std::string::npos);
    CHECK(text.find("before: 27.folded: 250 samples, Python 2.7.18") != std::string::npos);
    CHECK(text.find("after:  311.folded: 700 samples, Python 3.11.7") != std::string::npos);
    CHECK(text.find("       -   28.57%   +28.57   +28.57  normalize_rows (svc.py)\n") != std::string::npos);
    CHECK(text.find("  40.00%   28.57%   -11.43   -11.43  render_summary (svc.py)\n") != std::string::npos);
    // The planted function's row comes before every other.
    auto header = text.find("function (file)");
    REQUIRE(header != std::string::npos);
    auto first_row = text.find('\n', header) + 1;
    CHECK(text.compare(first_row, 8, "       -") == 0);
    std::ostringstream top;
    write_diff_text(runs.table(), top, 2);
    CHECK(top.str().find("rows: 2 of 5") != std::string::npos);
    CHECK(top.str().find("render_summary") == std::string::npos);
}

TEST_CASE("the JSON table: the same rows, null where a side lacks the function") {
    Runs runs;
    std::ostringstream out;
    write_diff_json(runs.table(), out, 3);
    auto doc = nlohmann::json::parse(out.str());
    CHECK(doc["before"]["samples"] == 250);
    CHECK(doc["before"]["python"] == nlohmann::json::array({"2.7.18"}));
    CHECK(doc["after"]["name"] == "311.folded");
    CHECK(doc["sort"] == "self");
    CHECK(doc["rows_total"] == 5);
    REQUIRE(doc["rows"].size() == 3);
    CHECK(doc["rows"][0]["function"] == "normalize_rows");
    CHECK(doc["rows"][0]["before_total"].is_null());
    CHECK(doc["rows"][0]["after_total"].get<double>() == doctest::Approx(200.0 / 7));
    CHECK(doc["matched"]["functions"] == 4);
}

TEST_CASE("write_difference: the graph of matched frames, with its legend and both shares in tooltips") {
    Runs runs;
    std::ostringstream out;
    DiffOutput output;
    write_difference(runs.before, runs.before_sources, runs.after, runs.after_sources, output, out);
    auto svg = out.str();
    CHECK(svg.find("<g id=\"legend\">") != std::string::npos);
    CHECK(svg.find("BaseServer.serve_forever (&lt;stdlib&gt;/socketserver.py)") != std::string::npos);
    CHECK(svg.find("at /usr/lib/python3.11/socketserver.py:1") != std::string::npos);
    // serve_forever is matched: its frame carries before's samples (250), not 0.
    auto at = svg.find("<title>BaseServer.serve_forever");
    REQUIRE(at != std::string::npos);
    auto g = svg.rfind("<g ", at);
    CHECK(svg.substr(g, at - g).find("data-b=\"250\"") != std::string::npos);
    output.format = DiffFormat::json;
    std::ostringstream json;
    write_difference(runs.before, runs.before_sources, runs.after, runs.after_sources, output, json);
    CHECK(nlohmann::json::parse(json.str())["rows"][0]["function"] == "normalize_rows");
}
