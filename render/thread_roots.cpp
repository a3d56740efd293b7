#include "render/thread_roots.hpp"

#include <string_view>

#include "render/frame_label.hpp"

namespace pyprofd::render {

RootFrames::RootFrames(const Profile& profile) : profile_(profile), kinds_(profile.frame_count(), Kind::frame) {
    for (FrameId f = 0; f < profile.frame_count(); ++f) {
        const auto& label = profile.label(f);
        if (parse_thread_label(label)) kinds_[f] = Kind::thread;
        else if (parse_process_label(label)) kinds_[f] = Kind::process, has_process_roots_ = true;
    }
}

RootFrames::Roots RootFrames::of(std::span<const NodeId> path) const {
    Roots roots;
    std::size_t at = 0;
    if (at < path.size() && is_process_root(profile_.node(path[at]).frame)) roots.process = at++;
    if (at < path.size() && is_thread_root(profile_.node(path[at]).frame)) roots.thread = at++;
    roots.first_frame = at;
    return roots;
}

Profile without_thread_roots(const Profile& profile) {
    Profile merged;
    RootFrames roots(profile);
    std::vector<std::string_view> labels;
    profile.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        auto stack_roots = roots.of(path);
        labels.clear();
        for (std::size_t i = 0; i < path.size(); ++i) {
            // A stack of its thread root alone keeps it: its samples have nothing else to show.
            if (stack_roots.thread == i && i + 1 < path.size()) continue;
            labels.push_back(profile.label(profile.node(path[i]).frame));
        }
        merged.add_labels(std::span<const std::string_view>(labels), self);
    });
    return merged;
}

}  // namespace pyprofd::render
