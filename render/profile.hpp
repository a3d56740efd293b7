#pragma once
// The aggregated profile: every sampled stack merged into a trie of frames with
// counts. Memory grows with the number of distinct stacks, not with the number of
// samples, so an hour at 1 kHz of a steady program stays small.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pyprofd::render {

using FrameId = std::uint32_t;
using NodeId = std::uint32_t;

class Profile {
public:
    static constexpr NodeId root = 0;

    struct Node {
        FrameId frame = 0;       // meaningless for the root
        NodeId parent = 0;
        std::uint64_t self = 0;   // samples whose innermost frame is this node
        std::uint64_t total = 0;  // samples through this node
        std::vector<NodeId> children;
    };

    Profile();

    // The id of a frame label ("function (file:line)"), added on first use.
    FrameId intern(std::string_view label);
    const std::string& label(FrameId frame) const { return labels_[frame]; }

    // Adds `count` samples of a stack given root first.
    void add(std::span<const FrameId> root_first, std::uint64_t count = 1);
    void add_labels(std::span<const std::string> root_first, std::uint64_t count = 1);

    const Node& node(NodeId id) const { return nodes_[id]; }
    std::size_t node_count() const { return nodes_.size(); }
    std::size_t frame_count() const { return labels_.size(); }
    std::uint64_t total_samples() const { return nodes_[root].total; }

    // Calls visit(path, leaf) for every distinct stack that has samples of its own,
    // depth first, children in the order they were first seen; path runs from the
    // root's child down to the leaf. Iterative, for deep profiles.
    void for_each_stack(const std::function<void(std::span<const NodeId> path, const Node& leaf)>& visit) const;

private:
    NodeId child(NodeId parent, FrameId frame);

    std::vector<Node> nodes_;
    std::vector<std::string> labels_;
    std::unordered_map<std::string, FrameId> label_ids_;
    // (parent, frame) -> child: one hash lookup per frame when adding a stack.
    std::unordered_map<std::uint64_t, NodeId> edges_;
};

}  // namespace pyprofd::render
