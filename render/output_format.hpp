#pragma once
// The output formats, one row each: every fact about a format (the names the
// command line takes, the file endings that tell it, the name it has under a
// session's URL, its content type, whether it keeps threads apart) and the
// function that writes it. Everything that picks, names or writes a format reads
// this table; nothing else lists the formats.
#include <cstdint>
#include <expected>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "render/flame_graph.hpp"
#include "render/profile.hpp"
#include "render/profile_sources.hpp"

namespace pyprofd::render {

enum class OutputFormat { svg, folded, speedscope, pprof };

// What the formats say beside the stacks.
struct OutputDetails {
    FlameGraphOptions flame_graph;  // its title names speedscope's file, its subtitle is pprof's comment
    std::optional<double> rate_hz;  // known: time units in speedscope and pprof
    bool wall_clock = false;        // idle threads counted (pprof "wall", else "cpu")
    std::optional<std::int64_t> start_unix_ns;
    std::optional<std::int64_t> duration_ns;
    // Where each process's files were (the target first): folded stacks' header
    // (folded_header.hpp); none, no header.
    ProfileSources sources;
};

// Writes the profile to out; an error says why it could not (pprof's gzip).
using ProfileWriter = std::expected<void, std::string> (*)(const Profile& profile, const OutputDetails& details,
                                                           std::ostream& out);

struct OutputFormatRow {
    OutputFormat format;
    std::string_view name;                        // what --format takes, and how messages name it
    std::string_view label;                       // what a person calls it (the index page's links)
    std::span<const std::string_view> aliases;    // other names --format takes, never shown
    std::string_view file_extension;              // the ending of a file pyprofd names itself
    std::span<const std::string_view> endings;    // file name endings that tell the format, shown in messages
    std::span<const std::string_view> more_endings;  // further endings that tell it, not shown
    std::string_view url_name;                    // its name under a session: /sessions/{id}/<url_name>
    std::string_view content_type;                // as HTTP serves it
    bool attachment = false;                      // HTTP offers it as a file to save, not to show
    // speedscope keeps threads apart and pprof labels samples by thread: for them the
    // profile keeps a root frame per thread (SampleAggregator's per_thread).
    bool keeps_threads = false;
    bool draws_graph = false;                     // FlameGraphOptions shape it (width, search, ...)
    ProfileWriter write = nullptr;
};

// Every format, in the order messages list them.
std::span<const OutputFormatRow> output_formats();
const OutputFormatRow& output_format_row(OutputFormat format);

std::optional<OutputFormat> output_format_named(std::string_view name);  // a name or an alias
// From the file name's ending (.svg, .folded, .txt, .json, .pb.gz, ...); nullopt when it
// says nothing.
std::optional<OutputFormat> output_format_for_path(std::string_view path);
std::optional<OutputFormat> output_format_at_url(std::string_view url_name);
std::string_view output_format_name(OutputFormat format);
std::string_view file_extension(OutputFormat format);
bool format_keeps_threads(OutputFormat format);
std::string_view output_format_names();  // for messages: "svg, folded, ..."
std::string_view output_format_endings();  // for messages: ".svg, .folded, ..."

// The profile in the format (pprof's is gzip'd binary), to a stream or as bytes.
std::expected<void, std::string> write_profile_as(OutputFormat format, const Profile& profile,
                                                  const OutputDetails& details, std::ostream& out);
std::expected<std::string, std::string> profile_as(OutputFormat format, const Profile& profile,
                                                   const OutputDetails& details);

}  // namespace pyprofd::render
