#include "render/profile.hpp"

#include <limits>

namespace pyprofd::render {
namespace {

// Totals saturate rather than wrap: folded input from elsewhere may hold any count.
void add_saturating(std::uint64_t& total, std::uint64_t count) {
    total = total > std::numeric_limits<std::uint64_t>::max() - count ? std::numeric_limits<std::uint64_t>::max()
                                                                       : total + count;
}

std::uint64_t label_hash(std::string_view label) { return std::hash<std::string_view>()(label); }

std::uint64_t edge_hash(NodeId parent, std::uint64_t label_hash) {
    // MurmurHash3's 64-bit finaliser over both: the table uses the low 32 bits, and
    // every bit of the parent and the label must reach them.
    std::uint64_t key = label_hash + static_cast<std::uint64_t>(parent) * 0x9E3779B97F4A7C15ULL;
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    return key ^ (key >> 33);
}

}  // namespace

Profile::Profile() { nodes_.push_back(Node{}); }

FrameId Profile::intern(std::string_view label) { return intern(label, label_hash(label)); }

FrameId Profile::intern(std::string_view label, std::uint64_t hash) {
    return label_ids_.find_or_insert(
        hash, [&](FrameId id) { return labels_[id] == label; },
        [&] {
            labels_.emplace_back(label);
            label_hashes_.push_back(hash);
            return static_cast<FrameId>(labels_.size() - 1);
        });
}

NodeId Profile::add_child(NodeId parent, FrameId frame) {
    auto id = static_cast<NodeId>(nodes_.size());
    nodes_.push_back(Node{frame, parent, none, none, none, 0});
    auto& p = nodes_[parent];
    if (p.last_child == none)
        p.first_child = id;
    else
        nodes_[p.last_child].next_sibling = id;
    p.last_child = id;
    return id;
}

NodeId Profile::child(NodeId parent, FrameId frame) {
    return edges_.find_or_insert(
        edge_hash(parent, label_hashes_[frame]),
        [&](NodeId id) { return nodes_[id].parent == parent && nodes_[id].frame == frame; },
        [&] { return add_child(parent, frame); });
}

NodeId Profile::child(NodeId parent, std::string_view label) {
    auto hash = label_hash(label);
    return edges_.find_or_insert(
        edge_hash(parent, hash),
        [&](NodeId id) { return nodes_[id].parent == parent && labels_[nodes_[id].frame] == label; },
        [&] { return add_child(parent, intern(label, hash)); });
}

void Profile::add(std::span<const FrameId> root_first, std::uint64_t count) {
    // A stack without frames is no stack: every view draws stacks of frames.
    if (count == 0 || root_first.empty()) return;
    NodeId at = root;
    add_saturating(nodes_[root].total, count);
    for (FrameId frame : root_first) {
        at = child(at, frame);
        add_saturating(nodes_[at].total, count);
    }
}

void Profile::add_labels(std::span<const std::string_view> root_first, std::uint64_t count) {
    if (count == 0 || root_first.empty()) return;
    NodeId at = root;
    add_saturating(nodes_[root].total, count);
    for (auto label : root_first) {
        at = child(at, label);
        add_saturating(nodes_[at].total, count);
    }
}

void Profile::add_labels(std::span<const std::string> root_first, std::uint64_t count) {
    std::vector<std::string_view> views(root_first.begin(), root_first.end());
    add_labels(std::span<const std::string_view>(views), count);
}

std::uint64_t Profile::self_samples(NodeId id) const {
    std::uint64_t below = 0;
    for (NodeId c : children(id)) add_saturating(below, nodes_[c].total);
    return nodes_[id].total > below ? nodes_[id].total - below : 0;
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
