#include "render/thread_roots.hpp"

#include <vector>

#include "render/frame_label.hpp"

namespace pyprofd::render {

Profile without_thread_roots(const Profile& profile) {
    Profile merged;
    std::vector<bool> is_thread_root(profile.frame_count());
    for (FrameId f = 0; f < profile.frame_count(); ++f) is_thread_root[f] = parse_thread_label(profile.label(f)).has_value();
    std::vector<std::string_view> labels;
    profile.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        labels.clear();
        for (std::size_t i = 0; i < path.size(); ++i) {
            auto frame = profile.node(path[i]).frame;
            // A stack of its thread root alone keeps it: its samples have nothing else to show.
            if (i == 0 && is_thread_root[frame] && path.size() > 1) continue;
            labels.push_back(profile.label(frame));
        }
        merged.add_labels(std::span<const std::string_view>(labels), self);
    });
    return merged;
}

}  // namespace pyprofd::render
