#pragma once
// The aggregated profile: every sampled stack merged into a trie of frames with
// counts. Memory grows with the number of distinct stacks, not with the number of
// samples, so an hour at 1 kHz of a steady program stays small; a node is 32 bytes
// and nothing is allocated per node, so a profile of millions of them stays small too.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "render/id_hash_table.hpp"

namespace pyprofd::render {

using FrameId = std::uint32_t;
using NodeId = std::uint32_t;

class Profile {
public:
    static constexpr NodeId root = 0;
    static constexpr NodeId none = ~0U;

    struct Node {
        FrameId frame = 0;         // meaningless for the root
        NodeId parent = none;
        NodeId first_child = none;  // children in the order they were first seen
        NodeId next_sibling = none;
        NodeId last_child = none;
        std::uint64_t total = 0;   // samples through this node
    };

    // A node's children, for range-for.
    class Children {
    public:
        class iterator {
        public:
            using iterator_category = std::forward_iterator_tag;
            using value_type = NodeId;
            using difference_type = std::ptrdiff_t;
            using pointer = const NodeId*;
            using reference = NodeId;
            iterator() = default;
            iterator(const Profile* p, NodeId n) : profile_(p), node_(n) {}
            NodeId operator*() const { return node_; }
            iterator& operator++() {
                node_ = profile_->nodes_[node_].next_sibling;
                return *this;
            }
            iterator operator++(int) {
                auto before = *this;
                ++*this;
                return before;
            }
            bool operator==(const iterator& o) const { return node_ == o.node_; }

        private:
            const Profile* profile_ = nullptr;
            NodeId node_ = none;
        };
        iterator begin() const { return {profile_, first_}; }
        iterator end() const { return {profile_, none}; }
        bool empty() const { return first_ == none; }

    private:
        friend class Profile;
        Children(const Profile* p, NodeId first) : profile_(p), first_(first) {}
        const Profile* profile_;
        NodeId first_;
    };

    Profile();

    // The id of a frame label ("function (file:line)"), added on first use.
    FrameId intern(std::string_view label);
    const std::string& label(FrameId frame) const { return labels_[frame]; }

    // Adds `count` samples of a stack given root first.
    void add(std::span<const FrameId> root_first, std::uint64_t count = 1);
    // The same by labels: one hash lookup per frame, the label's and the edge's in one.
    void add_labels(std::span<const std::string_view> root_first, std::uint64_t count = 1);
    void add_labels(std::span<const std::string> root_first, std::uint64_t count = 1);

    const Node& node(NodeId id) const { return nodes_[id]; }
    Children children(NodeId id) const { return {this, nodes_[id].first_child}; }
    // Samples whose innermost frame is this node.
    std::uint64_t self_samples(NodeId id) const;
    std::size_t node_count() const { return nodes_.size(); }
    std::size_t frame_count() const { return labels_.size(); }
    std::uint64_t total_samples() const { return nodes_[root].total; }

    // Calls visit(path, self samples) for every distinct stack that has samples of
    // its own, depth first, children in the order they were first seen; path runs
    // from the root's child down to the leaf. Iterative, for deep profiles.
    void for_each_stack(const std::function<void(std::span<const NodeId> path, std::uint64_t self)>& visit) const;

private:
    NodeId child(NodeId parent, FrameId frame);
    NodeId child(NodeId parent, std::string_view label);
    NodeId add_child(NodeId parent, FrameId frame);
    FrameId intern(std::string_view label, std::uint64_t hash);

    std::vector<Node> nodes_;
    std::vector<std::string> labels_;
    std::vector<std::uint64_t> label_hashes_;  // an edge's hash mixes its parent with its label's
    IdHashTable label_ids_;  // label -> FrameId
    IdHashTable edges_;      // (parent, frame) -> child: one lookup per frame when adding a stack
};

}  // namespace pyprofd::render
