#include "render/profile.hpp"

namespace pyprofd::render {

Profile::Profile() { nodes_.push_back(Node{}); }

FrameId Profile::intern(std::string_view label) {
    auto [it, inserted] = label_ids_.try_emplace(std::string(label), static_cast<FrameId>(labels_.size()));
    if (inserted) labels_.emplace_back(label);
    return it->second;
}

NodeId Profile::child(NodeId parent, FrameId frame) {
    std::uint64_t key = (static_cast<std::uint64_t>(parent) << 32) | frame;
    auto [it, inserted] = edges_.try_emplace(key, static_cast<NodeId>(nodes_.size()));
    if (inserted) {
        nodes_.push_back(Node{frame, parent, 0, 0, {}});
        nodes_[parent].children.push_back(it->second);
    }
    return it->second;
}

void Profile::add(std::span<const FrameId> root_first, std::uint64_t count) {
    if (count == 0) return;
    NodeId at = root;
    nodes_[root].total += count;
    for (FrameId frame : root_first) {
        at = child(at, frame);
        nodes_[at].total += count;
    }
    nodes_[at].self += count;
}

void Profile::add_labels(std::span<const std::string> root_first, std::uint64_t count) {
    std::vector<FrameId> ids;
    ids.reserve(root_first.size());
    for (const auto& label : root_first) ids.push_back(intern(label));
    add(ids, count);
}

void Profile::for_each_stack(const std::function<void(std::span<const NodeId>, const Node&)>& visit) const {
    struct Visit {
        NodeId node;
        std::size_t child_index;
    };
    std::vector<Visit> stack{{root, 0}};
    std::vector<NodeId> path;
    while (!stack.empty()) {
        auto& top = stack.back();
        const auto& node = nodes_[top.node];
        if (top.child_index == 0 && top.node != root && node.self > 0) visit(path, node);
        if (top.child_index < node.children.size()) {
            NodeId next = node.children[top.child_index++];
            path.push_back(next);
            stack.push_back({next, 0});
        } else {
            stack.pop_back();
            if (!path.empty()) path.pop_back();
        }
    }
}

}  // namespace pyprofd::render
