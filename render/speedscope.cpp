#include "render/speedscope.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

#include "render/frame_label.hpp"
#include "render/thread_roots.hpp"

namespace pyprofd::render {
namespace {

constexpr std::uint32_t no_frame = ~0U;

// Speedscope's frame table, filled as frames are met; one entry per profile label.
class FrameTable {
public:
    explicit FrameTable(const Profile& profile) : profile_(profile), index_(profile.frame_count(), no_frame) {}

    std::uint32_t index(FrameId frame) {
        if (index_[frame] != no_frame) return index_[frame];
        const auto& label = profile_.label(frame);
        auto parsed = parse_frame_label(label);
        nlohmann::json entry{{"name", std::string(parsed.function)}};
        if (!parsed.file.empty()) entry["file"] = std::string(parsed.file);
        if (parsed.line >= 0) entry["line"] = parsed.line;
        index_[frame] = static_cast<std::uint32_t>(frames_.size());
        frames_.push_back(std::move(entry));
        return index_[frame];
    }

    nlohmann::json take() { return std::move(frames_); }

private:
    const Profile& profile_;
    std::vector<std::uint32_t> index_;
    nlohmann::json frames_ = nlohmann::json::array();
};

struct SampledProfile {
    std::string name;
    nlohmann::json samples = nlohmann::json::array();
    nlohmann::json weights = nlohmann::json::array();
    double total = 0;
};

}  // namespace

void write_speedscope(const Profile& profile, const SpeedscopeOptions& options, std::ostream& out) {
    FrameTable frames(profile);
    RootFrames roots(profile);
    // A profile per thread (of each process, where there are process roots), in the
    // order they were first seen; stacks without a thread root share one. The
    // thread's root frame names its profile and is left out of the stacks; a
    // process's stays, so that each profile says whose it is.
    std::vector<SampledProfile> profiles;
    std::unordered_map<NodeId, std::size_t> profile_of_root;
    std::optional<std::size_t> unthreaded;
    const double weight_per_sample = options.rate_hz ? 1000.0 / *options.rate_hz : 1.0;

    std::vector<std::uint32_t> stack;
    profile.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        auto stack_roots = roots.of(path);
        std::size_t profile_index;
        if (stack_roots.thread) {
            NodeId thread_node = path[*stack_roots.thread];
            auto [it, added] = profile_of_root.try_emplace(thread_node, profiles.size());
            if (added) {
                auto name = profile.label(profile.node(thread_node).frame);
                if (stack_roots.process) name = profile.label(profile.node(path[*stack_roots.process]).frame) + " " + name;
                profiles.push_back({std::move(name), {}, {}, 0});
            }
            profile_index = it->second;
        } else {
            if (!unthreaded) {
                unthreaded = profiles.size();
                profiles.push_back({options.name, {}, {}, 0});
            }
            profile_index = *unthreaded;
        }
        auto& target = profiles[profile_index];
        stack.clear();
        for (std::size_t i = 0; i < path.size(); ++i)
            if (stack_roots.thread != i) stack.push_back(frames.index(profile.node(path[i]).frame));
        double weight = static_cast<double>(self) * weight_per_sample;
        target.samples.push_back(stack);
        target.weights.push_back(options.rate_hz ? nlohmann::json(weight) : nlohmann::json(self));
        target.total += weight;
    });

    nlohmann::json file{
        {"$schema", "https://www.speedscope.app/file-format-schema.json"},
        {"exporter", "pyprofd"},
        {"name", options.name},
        {"activeProfileIndex", 0},
    };
    file["shared"] = {{"frames", frames.take()}};
    auto& list = file["profiles"] = nlohmann::json::array();
    for (auto& p : profiles) {
        list.push_back({
            {"type", "sampled"},
            {"name", p.name},
            {"unit", options.rate_hz ? "milliseconds" : "none"},
            {"startValue", 0},
            {"endValue", p.total},
            {"samples", std::move(p.samples)},
            {"weights", std::move(p.weights)},
        });
    }
    // Invalid UTF-8 in a name (read from the target, or from folded input) becomes
    // U+FFFD rather than failing the whole file.
    out << file.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace pyprofd::render
