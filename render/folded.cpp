#include "render/folded.hpp"

#include <charconv>
#include <optional>
#include <vector>

namespace pyprofd::render {

void write_folded(const Profile& profile, std::ostream& out) {
    std::string line;
    profile.for_each_stack([&](std::span<const NodeId> path, const Profile::Node& leaf) {
        line.clear();
        for (std::size_t i = 0; i < path.size(); ++i) {
            if (i) line += ';';
            line += profile.label(profile.node(path[i]).frame);
        }
        line += ' ';
        line += std::to_string(leaf.self);
        line += '\n';
        out << line;
    });
}

std::optional<FoldedReadError> read_folded(std::istream& in, Profile& profile) {
    std::string line;
    std::vector<FrameId> frames;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        auto space = line.find_last_of(' ');
        if (space == std::string::npos || space == 0)
            return FoldedReadError{number, "expected 'frame;frame;... count', found no count"};
        std::uint64_t count = 0;
        const char* begin = line.data() + space + 1;
        const char* end = line.data() + line.size();
        auto [ptr, ec] = std::from_chars(begin, end, count);
        if (ec != std::errc{} || ptr != end || begin == end)
            return FoldedReadError{number, "the count '" + line.substr(space + 1) + "' is not a whole number"};
        std::string_view stack(line.data(), space);
        frames.clear();
        while (true) {
            auto semi = stack.find(';');
            auto frame = stack.substr(0, semi);
            if (!frame.empty()) frames.push_back(profile.intern(frame));
            if (semi == std::string_view::npos) break;
            stack.remove_prefix(semi + 1);
        }
        profile.add(frames, count);
    }
    return std::nullopt;
}

}  // namespace pyprofd::render
