#pragma once
// Writing a profile in the format the user chose, to standard output or where
// -o points (output_file.hpp: a file atomically, a device or FIFO in place).
#include <cstdint>
#include <expected>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/output_file.hpp"
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

// The value of a --format option, or an error naming the formats.
std::expected<OutputFormat, std::string> output_format_option(std::string_view value);
// The value of an --output option ("-": standard output), or an error.
std::expected<std::string, std::string> output_path_option(std::string_view value);
// The format chosen, else the one the output's name says, else svg for standard
// output (empty or "-"); an error when the name says nothing.
std::expected<OutputFormat, std::string> output_format_for(std::optional<OutputFormat> chosen, const std::string& output);

// "-" writes to stdout; other names as write_output_file() does.
std::expected<void, std::string> write_profile(const render::Profile& profile, OutputFormat format,
                                               const std::string& path, const OutputDetails& details = {},
                                               const ReaderWait& wait = {});

}  // namespace pyprofd::daemon
