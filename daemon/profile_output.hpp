#pragma once
// A profile in one of the formats pyprofd writes (flame graph SVG, folded stacks,
// speedscope, pprof): the formats' names and file endings, and the rendering,
// for the command line and the HTTP API alike.
#include <cstdint>
#include <expected>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "render/flame_graph.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

enum class OutputFormat { svg, folded, speedscope, pprof };

std::optional<OutputFormat> output_format_named(std::string_view name);
// From the file name's ending (.svg, .folded, .txt, .json, .pb.gz); nullopt when it
// says nothing.
std::optional<OutputFormat> output_format_for_path(std::string_view path);
std::string_view output_format_name(OutputFormat format);  // the name --format takes
std::string_view file_extension(OutputFormat format);
std::string_view output_format_names();  // for messages: "svg, folded, ..."

// speedscope keeps threads apart and pprof labels samples by thread: for them the
// profile must have a root frame per thread (SampleAggregator's per_thread).
bool format_keeps_threads(OutputFormat format);

// What the formats other than folded say beside the stacks.
struct OutputDetails {
    render::FlameGraphOptions flame_graph;  // its title names speedscope's file, its subtitle is pprof's comment
    std::optional<double> rate_hz;          // known: time units in speedscope and pprof
    bool wall_clock = false;                // idle threads counted (pprof "wall", else "cpu")
    std::optional<std::int64_t> start_unix_ns;
    std::optional<std::int64_t> duration_ns;
};

// A command line as one string, words separated by spaces.
std::string command_text(const std::vector<std::string>& words);
// The title graphs get: "pyprofd: " and what was profiled, cut to 120 characters.
std::string graph_title(std::string_view target);

// The profile in the format (pprof's is gzip'd binary), to a stream or as bytes.
void render_profile(const render::Profile& profile, OutputFormat format, const OutputDetails& details,
                    std::ostream& out);
std::string render_profile(const render::Profile& profile, OutputFormat format, const OutputDetails& details);

}  // namespace pyprofd::daemon
