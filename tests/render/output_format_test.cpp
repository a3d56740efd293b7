#include <doctest/doctest.h>

#include <sys/mman.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "render/folded.hpp"
#include "render/gzip.hpp"
#include "render/output_format.hpp"

using namespace pyprofd::render;

namespace {

Profile small_profile() {
    Profile p;
    std::vector<std::string> stack = {"thread \"main\" (7)", "<module> (app.py:10)", "work (app.py:3)"};
    p.add_labels(stack, 3);
    return p;
}

}  // namespace

TEST_CASE("output formats: one row per format, in the enum's order, each with every fact") {
    auto rows = output_formats();
    REQUIRE(rows.size() == 4);
    for (int i = 0; i <= static_cast<int>(OutputFormat::pprof); ++i) {
        auto format = static_cast<OutputFormat>(i);
        const auto& row = rows[static_cast<std::size_t>(i)];
        CAPTURE(row.name);
        CHECK(row.format == format);
        CHECK(&output_format_row(format) == &row);
        CHECK_FALSE(row.name.empty());
        CHECK_FALSE(row.label.empty());
        CHECK(row.file_extension.starts_with('.'));
        CHECK_FALSE(row.endings.empty());
        for (auto ending : row.endings) CHECK(ending.starts_with('.'));
        for (auto ending : row.more_endings) CHECK(ending.starts_with('.'));
        CHECK_FALSE(row.url_name.empty());
        CHECK(row.url_name.find('/') == std::string_view::npos);
        CHECK_FALSE(row.content_type.empty());
        CHECK(static_cast<bool>(row.write));
    }
}

TEST_CASE("output formats: names, aliases, endings and URL names lead back to their format, and to no other") {
    std::set<std::string_view> names, urls, endings;
    for (const auto& row : output_formats()) {
        CAPTURE(row.name);
        CHECK(output_format_named(row.name) == row.format);
        CHECK(output_format_name(row.format) == row.name);
        for (auto alias : row.aliases) CHECK(output_format_named(alias) == row.format);
        CHECK(output_format_for_path("out/profile" + std::string(row.file_extension)) == row.format);
        CHECK(file_extension(row.format) == row.file_extension);
        for (auto ending : row.endings) CHECK(output_format_for_path("p" + std::string(ending)) == row.format);
        for (auto ending : row.more_endings) CHECK(output_format_for_path("p" + std::string(ending)) == row.format);
        CHECK(output_format_at_url(row.url_name) == row.format);
        CHECK(format_keeps_threads(row.format) == row.keeps_threads);
        CHECK(names.insert(row.name).second);
        for (auto alias : row.aliases) CHECK(names.insert(alias).second);
        CHECK(urls.insert(row.url_name).second);
        for (auto ending : row.endings) CHECK(endings.insert(ending).second);
        for (auto ending : row.more_endings) CHECK(endings.insert(ending).second);
    }
    CHECK_FALSE(output_format_named("png"));
    CHECK_FALSE(output_format_for_path("profile.png"));
    CHECK_FALSE(output_format_for_path("svg"));
    CHECK_FALSE(output_format_at_url("flame.png"));
}

TEST_CASE("output formats: the facts the command line, the API and their messages have always had") {
    CHECK(output_format_names() == "svg, folded, speedscope, pprof");
    CHECK(output_format_endings() == ".svg, .folded, .txt, .json, .pb.gz");
    CHECK(output_format_named("flamegraph") == OutputFormat::svg);
    CHECK(output_format_named("collapsed") == OutputFormat::folded);
    CHECK(output_format_for_path("a.collapsed") == OutputFormat::folded);
    CHECK(output_format_for_path("a.pprof") == OutputFormat::pprof);
    CHECK(file_extension(OutputFormat::speedscope) == ".speedscope.json");
    CHECK(output_format_at_url("flame.svg") == OutputFormat::svg);
    CHECK(output_format_at_url("profile.pb.gz") == OutputFormat::pprof);
    CHECK(output_format_row(OutputFormat::folded).content_type == "text/plain; charset=utf-8");
    // Only the formats that keep threads apart need a root frame per thread.
    CHECK(format_keeps_threads(OutputFormat::speedscope));
    CHECK(format_keeps_threads(OutputFormat::pprof));
    CHECK_FALSE(format_keeps_threads(OutputFormat::svg));
    CHECK_FALSE(format_keeps_threads(OutputFormat::folded));
    CHECK(output_format_row(OutputFormat::pprof).attachment);
    CHECK_FALSE(output_format_row(OutputFormat::svg).attachment);
}

TEST_CASE("output formats: each row's writer writes its format") {
    auto profile = small_profile();
    OutputDetails details{.rate_hz = 100};
    details.flame_graph.title = "a title";
    auto made = [&](OutputFormat format) {
        auto bytes = profile_as(format, profile, details);
        REQUIRE(bytes);
        return *bytes;
    };
    CHECK(made(OutputFormat::svg).find("<svg") != std::string::npos);
    std::ostringstream folded;
    write_folded(profile, folded);
    CHECK(made(OutputFormat::folded) == folded.str());
    CHECK(made(OutputFormat::speedscope).find("\"a title\"") != std::string::npos);
    CHECK(made(OutputFormat::pprof).starts_with("\x1f\x8b"));  // gzip's magic
}

TEST_CASE("gzip: what it cannot compress is an error value, not an exception") {
    auto compressed = gzip_compressed("hello");
    REQUIRE(compressed);
    CHECK(compressed->starts_with("\x1f\x8b"));
    // More than zlib takes in one piece: address space only (never touched), so the
    // test needs no 4 GiB of memory.
    std::size_t size = (std::size_t{1} << 32) + 1;
    void* space = ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE(space != MAP_FAILED);
    std::expected<std::string, std::string> too_big;
    CHECK_NOTHROW(too_big = gzip_compressed(std::string_view(static_cast<const char*>(space), size)));
    CHECK_FALSE(too_big);
    if (!too_big) CHECK(too_big.error().find("4 GiB") != std::string::npos);
    ::munmap(space, size);
}
