#include "render/profile.hpp"

namespace pyprofd::render {
namespace {

std::uint64_t edge_hash(NodeId parent, FrameId frame) {
    // A multiplicative mix of both halves; the table uses the low 32 bits.
    std::uint64_t key = (static_cast<std::uint64_t>(parent) << 32) | frame;
    key ^= key >> 31;
    key *= 0x9E3779B97F4A7C15ULL;
    return key ^ (key >> 29);
}

}  // namespace

Profile::Profile() { nodes_.push_back(Node{}); }

FrameId Profile::intern(std::string_view label) {
    return label_ids_.find_or_insert(
        std::hash<std::string_view>()(label), [&](FrameId id) { return labels_[id] == label; },
        [&] {
            labels_.emplace_back(label);
            return static_cast<FrameId>(labels_.size() - 1);
        });
}

NodeId Profile::child(NodeId parent, FrameId frame) {
    return edges_.find_or_insert(
        edge_hash(parent, frame),
        [&](NodeId id) {
            const auto& n = nodes_[id];
            return n.parent == parent && n.frame == frame;
        },
        [&] {
            auto id = static_cast<NodeId>(nodes_.size());
            nodes_.push_back(Node{frame, parent, none, none, none, 0});
            auto& p = nodes_[parent];
            if (p.last_child == none)
                p.first_child = id;
            else
                nodes_[p.last_child].next_sibling = id;
            p.last_child = id;
            return id;
        });
}

void Profile::add(std::span<const FrameId> root_first, std::uint64_t count) {
    if (count == 0) return;
    NodeId at = root;
    nodes_[root].total += count;
    for (FrameId frame : root_first) {
        at = child(at, frame);
        nodes_[at].total += count;
    }
}

void Profile::add_labels(std::span<const std::string> root_first, std::uint64_t count) {
    std::vector<FrameId> ids;
    ids.reserve(root_first.size());
    for (const auto& label : root_first) ids.push_back(intern(label));
    add(ids, count);
}

std::uint64_t Profile::self_samples(NodeId id) const {
    std::uint64_t below = 0;
    for (NodeId c : children(id)) below += nodes_[c].total;
    return nodes_[id].total - below;
}

void Profile::for_each_stack(const std::function<void(std::span<const NodeId>, std::uint64_t)>& visit) const {
    // The path is the stack of the walk: a node is visited when first reached,
    // then its children one by one through next_sibling.
    std::vector<NodeId> path;
    NodeId at = nodes_[root].first_child;
    while (at != none) {
        path.push_back(at);
        if (auto self = self_samples(at); self > 0) visit(path, self);
        if (nodes_[at].first_child != none) {
            at = nodes_[at].first_child;
            continue;
        }
        // Up until a node has a next sibling.
        while (!path.empty() && nodes_[path.back()].next_sibling == none) path.pop_back();
        if (path.empty()) break;
        at = nodes_[path.back()].next_sibling;
        path.pop_back();
    }
}

}  // namespace pyprofd::render
