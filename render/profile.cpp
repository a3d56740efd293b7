#include "render/profile.hpp"

#include <algorithm>
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

const char* to_string(ProfileCap cap) {
    switch (cap) {
        case ProfileCap::none: return "none";
        case ProfileCap::stacks: return "stacks";
        case ProfileCap::frames: return "frames";
        case ProfileCap::label_bytes: return "label_bytes";
    }
    return "none";
}

Profile::Profile(ProfileLimits limits) : limits_(limits) { nodes_.push_back(Node{}); }

FrameId Profile::intern(std::string_view label) { return intern(label, label_hash(label), true); }

FrameId Profile::intern(std::string_view label, std::uint64_t hash, bool limited) {
    auto equals = [&](FrameId id) { return labels_[id] == label; };
    if (limited) {
        if (auto found = label_ids_.find(hash, equals); found != IdHashTable::empty) return found;
        if (label.size() > limits_.max_label_bytes - std::min(label_bytes_, limits_.max_label_bytes)) return no_frame;
    }
    return label_ids_.find_or_insert(hash, equals, [&] {
        // Both reserved first: an allocation that fails leaves the two in step. Grown
        // by half again, as push_back would: reserving one more each time moved every
        // label at every new one, and a thread-per-request server makes a new root
        // label (its thread) for each request.
        if (labels_.size() == labels_.capacity() || labels_.size() == label_hashes_.capacity()) {
            auto capacity = std::max<std::size_t>(64, labels_.size() + labels_.size() / 2);
            labels_.reserve(capacity);
            label_hashes_.reserve(capacity);
        }
        labels_.emplace_back(label);
        label_hashes_.push_back(hash);
        if (limited) label_bytes_ += label.size();
        return static_cast<FrameId>(labels_.size() - 1);
    });
}

NodeId Profile::add_child(NodeId parent, FrameId frame) {
    auto id = static_cast<NodeId>(nodes_.size());
    nodes_.push_back(Node{frame, parent, none, none, none, 0, 0});
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

NodeId Profile::find_child(NodeId parent, FrameId frame) const {
    auto found = edges_.find(edge_hash(parent, label_hashes_[frame]),
                             [&](NodeId id) { return nodes_[id].parent == parent && nodes_[id].frame == frame; });
    return found == IdHashTable::empty ? none : found;
}

NodeId Profile::find_child(NodeId parent, std::string_view label, std::uint64_t hash) const {
    auto found = edges_.find(edge_hash(parent, hash), [&](NodeId id) {
        return nodes_[id].parent == parent && labels_[nodes_[id].frame] == label;
    });
    return found == IdHashTable::empty ? none : found;
}

ProfileCap Profile::passes_limit(std::size_t new_frames, std::size_t line_bytes) const {
    auto room = [](std::size_t limit, std::size_t used) { return limit - std::min(limit, used); };
    std::size_t frames_held = nodes_.size() - 1 - (truncated_node_ != none ? 1 : 0);
    if (new_frames > room(limits_.max_frames, frames_held)) return ProfileCap::frames;
    if (stack_count_ >= limits_.max_stacks) return ProfileCap::stacks;
    if (line_bytes > room(limits_.max_label_bytes, stack_text_bytes_)) return ProfileCap::label_bytes;
    return ProfileCap::none;
}

void Profile::add_new_frames(std::span<const FrameId> rest, std::size_t line_bytes) {
    NodeId at = path_.empty() ? root : path_.back();
    path_.reserve(path_.size() + rest.size());
    for (FrameId frame : rest) path_.push_back(at = child(at, frame));
    nodes_[at].ends_stack = 1;
    ++stack_count_;
    stack_text_bytes_ += line_bytes;
}

void Profile::count_path(std::uint64_t count) {
    add_saturating(nodes_[root].total, count);
    for (NodeId n : path_) add_saturating(nodes_[n].total, count);
}

void Profile::add_truncated(std::uint64_t count, ProfileCap cap) {
    if (truncated_node_ == none) {
        auto frame = intern(truncated_frame_label, label_hash(truncated_frame_label), false);
        truncated_node_ = child(root, frame);
        nodes_[truncated_node_].ends_stack = 1;
    }
    add_saturating(nodes_[root].total, count);
    add_saturating(nodes_[truncated_node_].total, count);
    add_saturating(truncated_samples_, count);
    if (cap_reached_ == ProfileCap::none) cap_reached_ = cap;
}

namespace {
// The length of a stack's line of folded stacks: its labels with a separator each,
// a space, the count (20 digits at most) and the newline.
constexpr std::size_t line_overhead = 21;
}  // namespace

void Profile::add(std::span<const FrameId> root_first, std::uint64_t count) {
    // A stack without frames is no stack: every view draws stacks of frames.
    if (count == 0 || root_first.empty()) return;
    path_.clear();
    NodeId at = root;
    std::size_t held = 0;
    for (FrameId frame : root_first) {
        if (frame == no_frame) break;
        NodeId next = find_child(at, frame);
        if (next == none) break;
        path_.push_back(at = next);
        ++held;
    }
    if (held == root_first.size() && nodes_[at].ends_stack) return count_path(count);
    // A stack not held before: the rest of its frames, within the limits.
    if (root_first.size() == 1 && root_first[0] != no_frame && labels_[root_first[0]] == truncated_frame_label)
        return add_truncated(count, ProfileCap::none);
    std::size_t line = line_overhead;
    for (FrameId frame : root_first) {
        if (frame == no_frame) return add_truncated(count, ProfileCap::label_bytes);
        line += labels_[frame].size() + 1;
    }
    if (auto cap = passes_limit(root_first.size() - held, line); cap != ProfileCap::none) return add_truncated(count, cap);
    add_new_frames(root_first.subspan(held), line);
    count_path(count);
}

void Profile::add_labels(std::span<const std::string_view> root_first, std::uint64_t count) {
    if (count == 0 || root_first.empty()) return;
    // How folded stacks write the truncated samples: read back as such.
    if (root_first.size() == 1 && root_first[0] == truncated_frame_label) return add_truncated(count, ProfileCap::none);
    path_.clear();
    NodeId at = root;
    std::size_t held = 0;
    for (auto label : root_first) {
        NodeId next = find_child(at, label, label_hash(label));
        if (next == none) break;
        path_.push_back(at = next);
        ++held;
    }
    if (held == root_first.size() && nodes_[at].ends_stack) return count_path(count);
    std::size_t line = line_overhead;
    for (auto label : root_first) line += label.size() + 1;
    if (auto cap = passes_limit(root_first.size() - held, line); cap != ProfileCap::none) return add_truncated(count, cap);
    frames_.clear();
    for (auto label : root_first.subspan(held)) {
        auto frame = intern(label, label_hash(label), true);
        if (frame == no_frame) return add_truncated(count, ProfileCap::label_bytes);
        frames_.push_back(frame);
    }
    add_new_frames(frames_, line);
    count_path(count);
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
