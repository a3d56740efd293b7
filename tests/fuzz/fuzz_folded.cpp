// Folded stacks from any tool, then every format drawn from what was read: the
// renderers see whatever labels the input holds.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "render/differential.hpp"
#include "render/flame_graph.hpp"
#include "render/folded.hpp"
#include "render/folded_header.hpp"
#include "render/pprof.hpp"
#include "render/speedscope.hpp"
#include "render/thread_roots.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pyprofd::render;
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    Profile profile;
    ProfileSources sources;
    auto error = read_folded(in, profile, &sources);
    if (error && error->message.empty()) __builtin_trap();
    // The header written of the sources read holds as many, and no stack.
    {
        std::istringstream header(folded_header(sources));
        Profile none;
        ProfileSources again;
        if (read_folded(header, none, &again) || none.total_samples() != 0 || again.size() != sources.size())
            __builtin_trap();
    }
    std::ostringstream out;
    FlameGraphOptions options;
    options.min_width_px = 0;
    write_flame_graph(profile, options, out);
    auto merged = without_thread_roots(profile);
    if (merged.total_samples() != profile.total_samples()) __builtin_trap();
    options.baseline = &merged;
    write_flame_graph(profile, options, out);
    // Whatever the labels hold, the folded stacks written read back to the same
    // samples, and once written they are a fixed point: labels that differed only in
    // what the writer replaces merge at most once.
    auto round_trip = [](const Profile& from, Profile& to) {
        std::ostringstream text;
        write_folded(from, text);
        std::istringstream in(text.str());
        if (read_folded(in, to) || to.total_samples() != from.total_samples()) __builtin_trap();
        return text.str();
    };
    // (Counts past 10^18, which reading refuses, can only come of adding up such input.)
    if (profile.total_samples() <= 1'000'000'000'000'000'000ULL) {
        Profile once, twice, thrice;
        round_trip(profile, once);
        auto second = round_trip(once, twice);
        if (round_trip(twice, thrice) != second) __builtin_trap();
    }
    // The difference matches frames by what their labels say (files, names, roots):
    // any labels, against themselves and against the merged threads, as graph and table.
    // Against itself, every function is matched and nothing changed.
    // The sources read from the input's header, whatever they say, name the files.
    auto matched = match_profiles(profile, sources, profile, sources);
    if (matched.after.total_samples() != matched.before.total_samples()) __builtin_trap();
    auto table = diff_table(matched, DiffSort::self, {}, {});
    if (table.matched_functions != table.after_functions) __builtin_trap();
    for (const auto& row : table.rows)
        if (row.total_change != 0 || row.self_change != 0) __builtin_trap();
    for (auto format : {DiffFormat::svg, DiffFormat::text, DiffFormat::json})
        write_difference(merged, {}, profile, sources, {.format = format}, out);
    write_speedscope(profile, {}, out);
    if (!write_pprof(profile, {.rate_hz = 100}, out)) __builtin_trap();  // fails only past 4 GiB
    return 0;
}
