#include "render/diff_table.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string_view>
#include <tuple>
#include <utility>
#include <unordered_map>

#include "render/differential.hpp"
#include "render/frame_label.hpp"

namespace pyprofd::render {
namespace {

struct Shares {
    std::uint64_t total = 0;  // samples with the function on their stack (once, however deep it recurses)
    std::uint64_t self = 0;   // samples in the function's own code
};

// Each frame's inclusive and self samples.
std::vector<Shares> shares_by_frame(const Profile& profile) {
    std::vector<Shares> shares(profile.frame_count());
    std::vector<std::uint32_t> on_path(profile.frame_count(), 0);
    struct Step {
        NodeId node;
        bool leaving;
    };
    std::vector<Step> work;
    for (NodeId c : profile.children(Profile::root)) work.push_back({c, false});
    while (!work.empty()) {
        auto [n, leaving] = work.back();
        work.pop_back();
        FrameId f = profile.node(n).frame;
        if (leaving) {
            --on_path[f];
            continue;
        }
        if (on_path[f]++ == 0) shares[f].total += profile.node(n).total;
        shares[f].self += profile.self_samples(n);
        work.push_back({n, true});
        for (NodeId c : profile.children(n)) work.push_back({c, false});
    }
    return shares;
}

double percent(std::uint64_t samples, std::uint64_t of) {
    return of ? 100.0 * static_cast<double>(samples) / static_cast<double>(of) : 0.0;
}

double matched_percent(const Profile& after, const Profile& before) {
    auto before_totals = totals_at_same_paths(after, before);
    // A node with a counterpart at its path has before_totals > 0 (before's nodes all hold samples).
    std::uint64_t matched = 0;
    for (NodeId n = 1; n < after.node_count(); ++n)
        if (before_totals[n] > 0) matched += after.self_samples(n);
    return percent(matched, after.total_samples());
}

std::string versions_text(const std::vector<std::string>& versions) {
    if (versions.empty()) return "Python version unknown";
    std::string text = "Python ";
    for (std::size_t i = 0; i < versions.size(); ++i) text += (i ? ", " : "") + versions[i];
    return text;
}

std::string share_text(const std::optional<double>& share) {
    return share ? fmt::format("{:.2f}%", *share) : std::string("-");
}

}  // namespace

const char* to_string(DiffSort sort) { return sort == DiffSort::total ? "total" : "self"; }

std::optional<DiffSort> diff_sort_named(std::string_view name) {
    if (name == "self") return DiffSort::self;
    if (name == "total") return DiffSort::total;
    return std::nullopt;
}

DiffTable diff_table(const MatchedProfiles& matched, DiffSort sort, DiffProfileName before, DiffProfileName after) {
    DiffTable table{.before_name = std::move(before), .after_name = std::move(after)};
    table.sort = sort;
    const auto& b = matched.before;
    const auto& a = matched.after;
    table.before_samples = b.total_samples();
    table.after_samples = a.total_samples();
    auto before_shares = shares_by_frame(b);
    auto after_shares = shares_by_frame(a);

    std::unordered_map<std::string_view, std::size_t> row_of;  // identity label -> row
    auto row_for = [&](const std::string& label) -> DiffRow& {
        auto [it, added] = row_of.try_emplace(label, table.rows.size());
        if (added) {
            auto parsed = parse_frame_label(label);
            table.rows.push_back({.function = std::string(parsed.function), .file = std::string(parsed.file)});
        }
        return table.rows[it->second];
    };
    for (FrameId f = 0; f < b.frame_count(); ++f) {
        if (before_shares[f].total == 0) continue;
        auto& row = row_for(b.label(f));
        row.before_total = percent(before_shares[f].total, table.before_samples);
        row.before_self = percent(before_shares[f].self, table.before_samples);
    }
    for (FrameId f = 0; f < a.frame_count(); ++f) {
        if (after_shares[f].total == 0) continue;
        auto& row = row_for(a.label(f));
        row.after_total = percent(after_shares[f].total, table.after_samples);
        row.after_self = percent(after_shares[f].self, table.after_samples);
        ++table.after_functions;
        if (row.before_total) ++table.matched_functions;
    }
    for (auto& row : table.rows) {
        row.total_change = row.after_total.value_or(0) - row.before_total.value_or(0);
        row.self_change = row.after_self.value_or(0) - row.before_self.value_or(0);
    }
    // The change sorted by first, then the other. Equal changes (a profile against
    // itself, or functions that did not move) put the larger function first, as
    // pprof's -top does, so --top keeps what matters; the name settles the rest.
    auto key = [sort](const DiffRow& r) {
        auto changes = sort == DiffSort::total ? std::pair{r.total_change, r.self_change}
                                               : std::pair{r.self_change, r.total_change};
        return std::tuple{changes.first, changes.second, r.after_total.value_or(0), r.before_total.value_or(0)};
    };
    std::sort(table.rows.begin(), table.rows.end(), [&](const DiffRow& x, const DiffRow& y) {
        if (key(x) != key(y)) return key(x) > key(y);
        return std::tie(x.function, x.file) < std::tie(y.function, y.file);
    });
    table.after_samples_matched_percent = matched_percent(a, b);
    return table;
}

void write_diff_text(const DiffTable& table, std::ostream& out, std::size_t top) {
    out << "Differential profile: each function's share of its profile's samples, before and after.\n"
           "Shares, not counts: the two runs may differ in length and rate.\n";
    out << fmt::format("before: {}: {} samples, {}\n", table.before_name.name, table.before_samples,
                       versions_text(table.before_name.python_versions));
    out << fmt::format("after:  {}: {} samples, {}\n", table.after_name.name, table.after_samples,
                       versions_text(table.after_name.python_versions));
    out << fmt::format("matched: {} of after's {} functions are in before too; {:.1f}% of after's samples are on "
                       "stacks before has\n",
                       table.matched_functions, table.after_functions, table.after_samples_matched_percent);
    auto shown = std::min(top, table.rows.size());
    out << fmt::format("rows: {} of {}, by change of {}\n\n", shown, table.rows.size(),
                       table.sort == DiffSort::total ? "total share (with callees)" : "self share (own code)");
    out << fmt::format("{:>8} {:>8} {:>8} {:>8}  {}\n", "before", "after", "change", "self", "function (file)");
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& row = table.rows[i];
        auto where = row.file.empty() ? row.function : fmt::format("{} ({})", row.function, row.file);
        out << fmt::format("{:>8} {:>8} {:>+8.2f} {:>+8.2f}  {}\n", share_text(row.before_total),
                           share_text(row.after_total), row.total_change, row.self_change, where);
    }
}

void write_diff_json(const DiffTable& table, std::ostream& out, std::size_t top) {
    using nlohmann::json;
    auto side = [](const DiffProfileName& name, std::uint64_t samples) {
        return json{{"name", name.name}, {"samples", samples}, {"python", name.python_versions}};
    };
    auto share = [](const std::optional<double>& s) { return s ? json(*s) : json(nullptr); };
    json rows = json::array();
    auto shown = std::min(top, table.rows.size());
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& row = table.rows[i];
        rows.push_back({{"function", row.function},
                        {"file", row.file},
                        {"before_total", share(row.before_total)},
                        {"after_total", share(row.after_total)},
                        {"total_change", row.total_change},
                        {"before_self", share(row.before_self)},
                        {"after_self", share(row.after_self)},
                        {"self_change", row.self_change}});
    }
    json document{{"before", side(table.before_name, table.before_samples)},
                  {"after", side(table.after_name, table.after_samples)},
                  {"sort", to_string(table.sort)},
                  {"shares", "percent of each profile's samples"},
                  {"matched",
                   {{"functions", table.matched_functions},
                    {"after_functions", table.after_functions},
                    {"after_samples_percent", table.after_samples_matched_percent}}},
                  {"rows_total", table.rows.size()},
                  {"rows", std::move(rows)}};
    out << document.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace pyprofd::render
