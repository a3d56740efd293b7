#pragma once
// The aggregated profile: every sampled stack merged into a trie of frames with
// counts. Memory grows with the number of distinct stacks, not with the number of
// samples, so an hour at 1 kHz of a steady program stays small; a node is 32 bytes
// and nothing is allocated per node, so a profile of millions of them stays small too.
//
// A target that makes fresh stacks of fresh names all the time would still grow it
// without end, so a profile may have limits: past one, a stack it does not hold yet
// is counted under a single "[truncated]" frame instead, and the profile says so.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "render/id_hash_table.hpp"

namespace pyprofd::render {

using FrameId = std::uint32_t;
using NodeId = std::uint32_t;

// What one profile may hold; each bounds memory, and the folded stacks, the saved
// file and the graphs drawn from it. Unlimited unless set.
struct ProfileLimits {
    static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();
    std::size_t max_stacks = unlimited;       // distinct stacks: lines of folded stacks
    std::size_t max_frames = unlimited;       // nodes of the trie: the frames of all stacks, a shared prefix once
    // The text of the labels: the distinct labels held, and the stacks written out as
    // folded stacks (each line's frames, separators and count), each within it.
    std::size_t max_label_bytes = unlimited;
};

// The limit a profile reached first.
enum class ProfileCap { none, stacks, frames, label_bytes };
const char* to_string(ProfileCap cap);

// The frame that samples of stacks past a profile's limits are counted under.
inline constexpr std::string_view truncated_frame_label = "[truncated]";

class Profile {
public:
    static constexpr NodeId root = 0;
    static constexpr NodeId none = ~0U;
    // What intern() gives for a label past the limits: a stack holding it is truncated.
    static constexpr FrameId no_frame = ~0U;

    struct Node {
        FrameId frame = 0;         // meaningless for the root
        NodeId parent = none;
        NodeId first_child = none;  // children in the order they were first seen
        NodeId next_sibling = none;
        NodeId last_child = none;
        std::uint32_t ends_stack = 0;  // 1: a stack ends here (it has samples of its own)
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

    explicit Profile(ProfileLimits limits = {});

    // The id of a frame label ("function (file:line)"), added on first use; no_frame
    // when a new label would pass max_label_bytes.
    FrameId intern(std::string_view label);
    const std::string& label(FrameId frame) const { return labels_[frame]; }

    // Adds `count` samples of a stack given root first. A stack the profile does not
    // hold yet, which would pass a limit (or holds no_frame), counts under the
    // "[truncated]" frame instead; so does a stack of that frame alone, as folded
    // stacks write the truncated samples.
    void add(std::span<const FrameId> root_first, std::uint64_t count = 1);
    // The same by labels.
    void add_labels(std::span<const std::string_view> root_first, std::uint64_t count = 1);
    void add_labels(std::span<const std::string> root_first, std::uint64_t count = 1);

    const Node& node(NodeId id) const { return nodes_[id]; }
    Children children(NodeId id) const { return {this, nodes_[id].first_child}; }
    // Samples whose innermost frame is this node.
    std::uint64_t self_samples(NodeId id) const;
    std::size_t node_count() const { return nodes_.size(); }
    std::size_t frame_count() const { return labels_.size(); }
    std::uint64_t total_samples() const { return nodes_[root].total; }

    const ProfileLimits& limits() const { return limits_; }
    // Distinct stacks held (the "[truncated]" one not counted), the bytes of the
    // distinct labels, and of the stacks as folded stacks.
    std::size_t stack_count() const { return stack_count_; }
    std::size_t label_bytes() const { return label_bytes_; }
    std::size_t stack_text_bytes() const { return stack_text_bytes_; }
    // Samples counted under "[truncated]", and the limit that sent the first there
    // (none for truncated samples read back from folded stacks).
    std::uint64_t truncated_samples() const { return truncated_samples_; }
    ProfileCap cap_reached() const { return cap_reached_; }

    // Calls visit(path, self samples) for every distinct stack that has samples of
    // its own, depth first, children in the order they were first seen; path runs
    // from the root's child down to the leaf. Iterative, for deep profiles.
    void for_each_stack(const std::function<void(std::span<const NodeId> path, std::uint64_t self)>& visit) const;

private:
    NodeId child(NodeId parent, FrameId frame);
    NodeId find_child(NodeId parent, FrameId frame) const;
    NodeId find_child(NodeId parent, std::string_view label, std::uint64_t hash) const;
    NodeId add_child(NodeId parent, FrameId frame);
    FrameId intern(std::string_view label, std::uint64_t hash, bool limited);
    // The limit that a new stack would pass: one of new_frames frames not held yet,
    // whose folded line is line_bytes long (0: it ends at a node that a stack ends at).
    ProfileCap passes_limit(std::size_t new_frames, std::size_t line_bytes) const;
    // Adds the frames past path_'s end and counts the stack; path_ then holds it all.
    void add_new_frames(std::span<const FrameId> rest, std::size_t line_bytes);
    void count_path(std::uint64_t count);
    void add_truncated(std::uint64_t count, ProfileCap cap);
    bool is_truncated_stack(std::span<const std::string_view> root_first) const;

    ProfileLimits limits_;
    std::size_t stack_count_ = 0;
    std::size_t label_bytes_ = 0;
    std::size_t stack_text_bytes_ = 0;
    std::uint64_t truncated_samples_ = 0;
    ProfileCap cap_reached_ = ProfileCap::none;
    NodeId truncated_node_ = none;
    std::vector<NodeId> path_;  // reused by add: the nodes of the stack being added
    std::vector<FrameId> frames_;  // reused by add_labels

    std::vector<Node> nodes_;
    std::vector<std::string> labels_;
    std::vector<std::uint64_t> label_hashes_;  // an edge's hash mixes its parent with its label's
    IdHashTable label_ids_;  // label -> FrameId
    IdHashTable edges_;      // (parent, frame) -> child: one lookup per frame when adding a stack
};

}  // namespace pyprofd::render
