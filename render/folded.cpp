#include "render/folded.hpp"

#include <charconv>
#include <optional>
#include <vector>

#include "render/folded_header.hpp"
#include "render/label_text.hpp"

namespace pyprofd::render {

void write_folded(const Profile& profile, std::ostream& out) {
    FoldedWritten none;
    write_folded_since(profile, none, out);
}

std::uint64_t write_folded_since(const Profile& profile, FoldedWritten& written, std::ostream& out) {
    // A name that holds a newline or ';' must not make lines or frames of its own.
    // Each label is checked once, not once per line it is on; the few that need it
    // are replaced once.
    enum : std::uint8_t { unknown, safe, replaced };
    std::vector<std::uint8_t> state(profile.frame_count(), unknown);
    std::vector<std::string> replacement(profile.frame_count());
    std::string line;
    std::uint64_t bytes = 0;
    auto& done = written.self_by_node;
    done.resize(profile.node_count(), 0);
    profile.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        auto& before = done[path.back()];
        if (self <= before) return;
        auto added = self - before;
        before = self;
        written.samples += added;
        line.clear();
        for (std::size_t i = 0; i < path.size(); ++i) {
            if (i) line += ';';
            auto frame = profile.node(path[i]).frame;
            const auto& label = profile.label(frame);
            if (state[frame] == unknown) {
                state[frame] = is_safe_label_text(label) ? safe : replaced;
                if (state[frame] == replaced) replacement[frame] = safe_label_text(label);
            }
            const std::string& text = state[frame] == safe ? label : replacement[frame];
            // A line that starts with '#' is metadata to every reader of ours (folded_header.hpp):
            // a root frame named so would be skipped with its samples. Its '#' shows as
            // U+FF03 "＃" instead, as ';' shows as "；".
            if (i == 0 && is_folded_metadata(text)) {
                line += "\uFF03";
                line.append(text, 1);
            } else {
                line += text;
            }
        }
        line += ' ';
        line += std::to_string(added);
        line += '\n';
        out << line;
        bytes += line.size();
    });
    return bytes;
}

namespace {

// One line of folded input (without its newline) into the profile.
std::optional<std::string> add_line(std::string_view line, Profile& profile, std::vector<std::string_view>& frames,
                                    ProfileSources* sources) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return std::nullopt;
    if (is_folded_metadata(line)) {
        // What a header says is kept where asked for; a line of it that cannot be
        // read costs only itself, never the stacks.
        if (sources)
            if (auto source = folded_metadata_source(line)) sources->push_back(std::move(*source));
        return std::nullopt;
    }
    auto space = line.find_last_of(' ');
    if (space == std::string_view::npos || space == 0) return "expected 'frame;frame;... count', found no count";
    std::uint64_t count = 0;
    const char* begin = line.data() + space + 1;
    const char* end = line.data() + line.size();
    auto [ptr, ec] = std::from_chars(begin, end, count);
    if (ec != std::errc{} || ptr != end || begin == end)
        return "the count '" + std::string(line.substr(space + 1)) + "' is not a whole number";
    // A thousand years at 100 kHz is 3e15 samples: a larger count is not a sample count.
    constexpr std::uint64_t most = 1'000'000'000'000'000'000ULL;
    if (count > most) return "the count " + std::string(line.substr(space + 1)) + " is larger than 10^18";
    std::string_view stack = line.substr(0, space);
    frames.clear();
    while (true) {
        auto semi = stack.find(';');
        auto frame = stack.substr(0, semi);
        if (!frame.empty()) frames.push_back(frame);
        if (semi == std::string_view::npos) break;
        stack.remove_prefix(semi + 1);
    }
    if (frames.empty()) return "expected 'frame;frame;... count', found no frame before the count";
    profile.add_labels(std::span<const std::string_view>(frames), count);
    return std::nullopt;
}

}  // namespace

std::optional<FoldedReadError> read_folded(std::istream& in, Profile& profile, ProfileSources* sources) {
    // Read in large blocks and split in place: a line at a time through the stream
    // costs more than the parsing.
    constexpr std::size_t block = 64 * 1024;
    std::string buffer;
    std::vector<std::string_view> frames;
    std::size_t number = 0;
    bool at_end = false;
    while (!at_end) {
        auto kept = buffer.size();
        buffer.resize(kept + block);
        auto got = static_cast<std::size_t>(in.rdbuf()->sgetn(buffer.data() + kept, static_cast<std::streamsize>(block)));
        buffer.resize(kept + got);
        at_end = got == 0;
        std::string_view rest(buffer);
        while (true) {
            auto newline = rest.find('\n');
            if (newline == std::string_view::npos && !(at_end && !rest.empty())) break;
            auto line = rest.substr(0, newline);
            ++number;
            if (auto error = add_line(line, profile, frames, sources)) return FoldedReadError{number, std::move(*error)};
            rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        }
        buffer.erase(0, buffer.size() - rest.size());  // the unfinished line waits for the next block
    }
    return std::nullopt;
}

}  // namespace pyprofd::render
