#pragma once
// A differential profile as a table a person reads without a graph, in the manner
// of `go tool pprof -diff_base -top`: one row per function, its share of all samples
// before and after (inclusive: with what it called), the change in points, and the
// change of its self share (its own code). Rows go by the change of self share,
// largest growth first, because that is the function the time went to: a caller's
// inclusive share grows with its callee's, so inclusive changes rank the callers of
// the function that grew level with it. Shares, not counts: the two runs may differ
// in length and rate.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "render/frame_matching.hpp"

namespace pyprofd::render {

enum class DiffSort { self, total };
const char* to_string(DiffSort sort);
std::optional<DiffSort> diff_sort_named(std::string_view name);

// One side of the comparison as the table's header names it.
struct DiffProfileName {
    std::string name;  // a file, or a session
    std::vector<std::string> python_versions;
};

struct DiffRow {
    std::string function;
    std::string file;  // as frame_identity.hpp names it; empty for a frame of no file (native code, <idle>)
    // Percent of that profile's samples; absent where the function is not in it.
    std::optional<double> before_total, after_total, before_self, after_self;
    double total_change = 0;  // points, after minus before (an absent side counts 0)
    double self_change = 0;
};

struct DiffTable {
    DiffProfileName before_name, after_name;
    std::uint64_t before_samples = 0, after_samples = 0;
    DiffSort sort = DiffSort::self;
    std::vector<DiffRow> rows;
    std::size_t after_functions = 0;    // distinct functions of after
    std::size_t matched_functions = 0;  // of which before has too
    // After's samples whose whole stack, frame by frame from the root, before has too:
    // what the differential graph compares rather than calls new.
    double after_samples_matched_percent = 0;
};

DiffTable diff_table(const MatchedProfiles& matched, DiffSort sort, DiffProfileName before, DiffProfileName after);

inline constexpr std::size_t all_rows = std::numeric_limits<std::size_t>::max();
// The header (both profiles, their samples and Python versions, how much matched),
// then the rows, the first `top` of them.
void write_diff_text(const DiffTable& table, std::ostream& out, std::size_t top = all_rows);
// The same as one JSON object: before, after, sort, matched, rows.
void write_diff_json(const DiffTable& table, std::ostream& out, std::size_t top = all_rows);

}  // namespace pyprofd::render
