#include "render/output_format.hpp"

#include <array>
#include <sstream>

#include "render/folded.hpp"
#include "render/folded_header.hpp"
#include "render/pprof.hpp"
#include "render/speedscope.hpp"

namespace pyprofd::render {
namespace {

std::expected<void, std::string> write_svg(const Profile& profile, const OutputDetails& details, std::ostream& out) {
    write_flame_graph(profile, details.flame_graph, out);
    return {};
}

std::expected<void, std::string> write_folded_stacks(const Profile& profile, const OutputDetails& details,
                                                     std::ostream& out) {
    out << folded_header(details.sources);
    write_folded(profile, out);
    return {};
}

std::expected<void, std::string> write_speedscope_file(const Profile& profile, const OutputDetails& details,
                                                       std::ostream& out) {
    write_speedscope(profile, {.name = details.flame_graph.title, .rate_hz = details.rate_hz}, out);
    return {};
}

std::expected<void, std::string> write_pprof_file(const Profile& profile, const OutputDetails& details,
                                                  std::ostream& out) {
    return write_pprof(profile,
                       {.rate_hz = details.rate_hz,
                        .wall_clock = details.wall_clock,
                        .start_unix_ns = details.start_unix_ns,
                        .duration_ns = details.duration_ns,
                        .comment = details.flame_graph.subtitle},
                       out);
}

constexpr std::string_view svg_aliases[] = {"flamegraph"};
constexpr std::string_view svg_endings[] = {".svg"};
constexpr std::string_view folded_aliases[] = {"collapsed"};
constexpr std::string_view folded_endings[] = {".folded", ".txt"};
constexpr std::string_view folded_more_endings[] = {".collapsed"};
constexpr std::string_view speedscope_endings[] = {".json"};
constexpr std::string_view pprof_endings[] = {".pb.gz"};
constexpr std::string_view pprof_more_endings[] = {".pprof"};

constexpr std::array<OutputFormatRow, 4> rows{{
    {.format = OutputFormat::svg,
     .name = "svg",
     .label = "flame graph",
     .aliases = svg_aliases,
     .file_extension = ".svg",
     .endings = svg_endings,
     .more_endings = {},
     .url_name = "flame.svg",
     .content_type = "image/svg+xml",
     .draws_graph = true,
     .write = write_svg},
    {.format = OutputFormat::folded,
     .name = "folded",
     .label = "folded",
     .aliases = folded_aliases,
     .file_extension = ".folded",
     .endings = folded_endings,
     .more_endings = folded_more_endings,
     .url_name = "folded",
     .content_type = "text/plain; charset=utf-8",
     .write = write_folded_stacks},
    {.format = OutputFormat::speedscope,
     .name = "speedscope",
     .label = "speedscope",
     .aliases = {},
     .file_extension = ".speedscope.json",
     .endings = speedscope_endings,
     .more_endings = {},
     .url_name = "speedscope.json",
     .content_type = "application/json",
     .keeps_threads = true,
     .write = write_speedscope_file},
    {.format = OutputFormat::pprof,
     .name = "pprof",
     .label = "pprof",
     .aliases = {},
     .file_extension = ".pb.gz",
     .endings = pprof_endings,
     .more_endings = pprof_more_endings,
     .url_name = "profile.pb.gz",
     .content_type = "application/octet-stream",
     .attachment = true,
     .keeps_threads = true,
     .write = write_pprof_file},
}};

// "a, b, c" of one text per row and list.
template <class Texts>
std::string listed(Texts texts_of) {
    std::string out;
    for (const auto& row : rows)
        for (auto text : texts_of(row)) out += (out.empty() ? "" : ", ") + std::string(text);
    return out;
}

template <class Matches>
std::optional<OutputFormat> first_row(Matches matches) {
    for (const auto& row : rows)
        if (matches(row)) return row.format;
    return std::nullopt;
}

bool any_of(std::span<const std::string_view> texts, auto&& pred) {
    for (auto text : texts)
        if (pred(text)) return true;
    return false;
}

}  // namespace

std::span<const OutputFormatRow> output_formats() { return rows; }

const OutputFormatRow& output_format_row(OutputFormat format) {
    for (const auto& row : rows)
        if (row.format == format) return row;
    return rows.front();  // every enumerator has a row (tests/render/output_format_test.cpp)
}

std::optional<OutputFormat> output_format_named(std::string_view name) {
    return first_row([&](const OutputFormatRow& row) {
        return row.name == name || any_of(row.aliases, [&](std::string_view alias) { return alias == name; });
    });
}

std::optional<OutputFormat> output_format_for_path(std::string_view path) {
    auto ends_path = [&](std::string_view ending) { return path.ends_with(ending); };
    return first_row([&](const OutputFormatRow& row) {
        return any_of(row.endings, ends_path) || any_of(row.more_endings, ends_path);
    });
}

std::optional<OutputFormat> output_format_at_url(std::string_view url_name) {
    return first_row([&](const OutputFormatRow& row) { return row.url_name == url_name; });
}

std::string_view output_format_name(OutputFormat format) { return output_format_row(format).name; }
std::string_view file_extension(OutputFormat format) { return output_format_row(format).file_extension; }
bool format_keeps_threads(OutputFormat format) { return output_format_row(format).keeps_threads; }

std::string_view output_format_names() {
    static const std::string names = listed([](const OutputFormatRow& row) { return std::array{row.name}; });
    return names;
}

std::string_view output_format_endings() {
    static const std::string endings = listed([](const OutputFormatRow& row) { return row.endings; });
    return endings;
}

std::expected<void, std::string> write_profile_as(OutputFormat format, const Profile& profile,
                                                  const OutputDetails& details, std::ostream& out) {
    return output_format_row(format).write(profile, details, out);
}

std::expected<std::string, std::string> profile_as(OutputFormat format, const Profile& profile,
                                                   const OutputDetails& details) {
    std::ostringstream out;
    if (auto written = write_profile_as(format, profile, details, out); !written) return std::unexpected(written.error());
    return std::move(out).str();
}

}  // namespace pyprofd::render
