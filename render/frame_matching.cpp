#include "render/frame_matching.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "render/frame_identity.hpp"
#include "render/frame_label.hpp"
#include "render/thread_roots.hpp"

namespace pyprofd::render {
namespace {

// A frame of one input as its identity is found: its function and file, before the
// other input is looked at.
struct NormalizedFrame {
    std::string label;  // the input's label
    bool python = false;
    std::string function;
    SourceFile file;
    std::string identity;  // "function (file)", once matched
};

// One input read once: its distinct frames, normalized per process, and its stacks
// as indexes of them.
struct Side {
    std::vector<NormalizedFrame> frames;
    struct Stack {
        std::vector<std::uint32_t> frames;
        std::uint64_t samples;
    };
    std::vector<Stack> stacks;
    // Per normalized file, the functions seen in it and what called each (caller_key()).
    using Callers = std::unordered_set<std::string>;
    using Functions = std::unordered_map<std::string, Callers>;
    std::unordered_map<std::string, Functions> functions_by_file;
};

std::string_view last_part(std::string_view name) {
    auto dot = name.rfind('.');
    return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// A caller as both runs can name it: its file's last component and its function's
// last part ("socketserver.py finish_request" for 2.7's finish_request and 3.11's
// BaseServer.finish_request alike); "" for the root.
std::string caller_key(const NormalizedFrame& caller) {
    if (!caller.python) return caller.label;
    auto slash = caller.file.name.rfind('/');
    auto base = slash == std::string::npos ? caller.file.name : caller.file.name.substr(slash + 1);
    return base + " " + std::string(last_part(caller.function));
}

// Code objects of the interpreter's own, not of any program: 3.12's trampoline at the
// base of a call from C ("<interpreter trampoline> (<shim>)") and 3.14's frame that
// checks what a class's __init__ returned ("__init__ (__init__)"). Only some versions
// have them, between the same two frames of the program: left out, the stacks of
// every version line up.
bool is_interpreter_shim(std::string_view label) {
    auto parsed = parse_frame_label(label);
    return parsed.file == "<shim>" || (parsed.file == "__init__" && parsed.function == "__init__");
}

const ProcessSources* sources_for(const ProfileSources& sources, std::optional<long> pid) {
    if (sources.empty()) return nullptr;
    if (pid)
        for (const auto& s : sources)
            if (s.pid == *pid) return &s;
    return &sources.front();
}

Side read_side(const Profile& profile, const ProfileSources& sources) {
    Side side;
    RootFrames roots(profile);
    // (frame, process entry) -> index in side.frames
    std::unordered_map<std::uint64_t, std::uint32_t> seen;
    std::vector<char> shim(profile.frame_count());
    for (FrameId f = 0; f < profile.frame_count(); ++f) shim[f] = is_interpreter_shim(profile.label(f));
    profile.for_each_stack([&](std::span<const NodeId> path, std::uint64_t self) {
        auto r = roots.of(path);
        std::optional<long> pid;
        if (r.process)
            if (auto p = parse_process_label(profile.label(profile.node(path[*r.process]).frame))) pid = p->pid;
        const ProcessSources* entry = sources_for(sources, pid);
        auto entry_index = static_cast<std::uint64_t>(entry ? entry - sources.data() + 1 : 0);
        Side::Stack stack{{}, self};
        // A stack of root frames alone keeps its innermost: its samples have nothing else to show.
        for (std::size_t i = std::min(r.first_frame, path.size() - 1); i < path.size(); ++i) {
            FrameId frame = profile.node(path[i]).frame;
            if (i + 1 < path.size() && shim[frame]) continue;
            std::uint64_t key = (entry_index << 32) | frame;
            auto [it, added] = seen.try_emplace(key, static_cast<std::uint32_t>(side.frames.size()));
            if (added) {
                NormalizedFrame f;
                f.label = profile.label(frame);
                auto parsed = parse_frame_label(f.label);
                auto kind = frame_kind(f.label);
                f.python = !parsed.file.empty() && kind != FrameKind::process_root && kind != FrameKind::thread_root;
                if (f.python) {
                    f.function = std::string(parsed.function);
                    f.file = normalized_source_file(parsed.file, entry);
                }
                side.frames.push_back(std::move(f));
            }
            stack.frames.push_back(it->second);
        }
        if (!stack.frames.empty()) side.stacks.push_back(std::move(stack));
    });
    for (const auto& stack : side.stacks)
        for (std::size_t i = 0; i < stack.frames.size(); ++i) {
            const auto& f = side.frames[stack.frames[i]];
            if (f.python)
                side.functions_by_file[f.file.name][f.function].insert(i == 0 ? std::string() : caller_key(side.frames[stack.frames[i - 1]]));
        }
    return side;
}

// Of `functions` (the other run's of a file), those whose last part is `last`.
std::vector<std::string> ending_in(const Side::Functions& functions, std::string_view last) {
    std::vector<std::string> found;
    for (const auto& [name, callers] : functions)
        if (last_part(name) == last) found.push_back(name);
    return found;
}

bool share_any(const Side::Callers& a, const Side::Callers& b) {
    for (const auto& key : a)
        if (b.contains(key)) return true;
    return false;
}

// The name `function` has among `theirs` (another run's functions of the same file):
// itself; or the one qualified name it is the bare form of; or, for a Python 2
// private name, the one that lost an underscore. Where a file has several with that
// last part (BaseRequestHandler.__init__ and _SocketWriter.__init__ for a bare
// __init__), the one called from where this function was called, if only one is.
std::optional<std::string> counterpart(const std::string& function, const Side::Callers& callers,
                                       const Side::Functions& theirs) {
    if (theirs.contains(function)) return function;
    if (function.find('.') != std::string::npos) return std::nullopt;  // qualified: the bare side finds it
    auto candidates = ending_in(theirs, function);
    bool private_name = function.starts_with("__") && !function.ends_with("__");
    if (candidates.empty() && private_name) candidates = ending_in(theirs, std::string_view(function).substr(1));
    if (candidates.size() == 1) return candidates.front();
    std::optional<std::string> called_alike;
    for (const auto& candidate : candidates) {
        if (!share_any(callers, theirs.at(candidate))) continue;
        if (called_alike) return std::nullopt;  // still ambiguous
        called_alike = candidate;
    }
    return called_alike;
}

// A relative path ("app/views.py": Python 2's, from a profile that did not say its
// working directory, such as py-spy's) is the other run's one absolute path that ends
// in it ("/srv/app/views.py"), if exactly one does; else empty.
std::string absolute_form(const std::string& file, const Side& other) {
    if (file.empty() || file.starts_with('/') || file.starts_with('<')) return {};
    std::string found;
    for (const auto& [name, functions] : other.functions_by_file) {
        if (!name.starts_with('/') || name.size() <= file.size() || !name.ends_with(file) ||
            name[name.size() - file.size() - 1] != '/')
            continue;
        if (!found.empty()) return {};
        found = name;
    }
    return found;
}

void find_identities(Side& side, const Side& other) {
    for (auto& f : side.frames) {
        if (!f.python) {
            f.identity = f.label;
            continue;
        }
        std::string file = f.file.name, function = f.function;
        // The file the other run has this function in, of those this one may be.
        bool matched = false;
        auto try_file = [&](const std::string& candidate) {
            auto names = other.functions_by_file.find(candidate);
            if (names == other.functions_by_file.end()) names = other.functions_by_file.find(absolute_form(candidate, other));
            if (names == other.functions_by_file.end()) return false;
            auto name = counterpart(f.function, side.functions_by_file.at(f.file.name).at(f.function), names->second);
            if (!name) return false;
            file = names->first;
            function = *name;
            return true;
        };
        matched = try_file(f.file.name);
        for (const auto& alternative : f.file.alternatives) {
            if (matched) break;
            matched = try_file(alternative);
        }
        f.identity = function + " (" + file + ")";
    }
}

// The profile of a side's stacks under their identities, and for each of its frames
// the input label that had the most samples.
void build(const Side& side, Profile& profile, std::vector<std::string>& origin) {
    std::vector<std::string_view> labels;
    std::unordered_map<std::string_view, std::pair<std::string_view, std::uint64_t>> best;  // identity -> label
    std::unordered_map<std::uint32_t, std::uint64_t> weight;                                   // frame -> samples
    for (const auto& stack : side.stacks) {
        labels.clear();
        for (auto i : stack.frames) {
            labels.push_back(side.frames[i].identity);
            weight[i] += stack.samples;
        }
        profile.add_labels(labels, stack.samples);
    }
    for (const auto& [i, samples] : weight) {
        const auto& f = side.frames[i];
        auto& b = best[f.identity];
        if (samples > b.second || (samples == b.second && f.label < b.first)) b = {f.label, samples};
    }
    origin.assign(profile.frame_count(), {});
    for (FrameId id = 0; id < profile.frame_count(); ++id) {
        auto it = best.find(profile.label(id));
        if (it == best.end() || it->second.first == profile.label(id)) continue;
        auto parsed = parse_frame_label(it->second.first);
        origin[id] = parsed.line >= 0 ? std::string(parsed.file) + ":" + std::to_string(parsed.line) : std::string(parsed.file);
    }
}

}  // namespace

MatchedProfiles match_profiles(const Profile& before, const ProfileSources& before_sources, const Profile& after,
                               const ProfileSources& after_sources) {
    auto b = read_side(before, before_sources);
    auto a = read_side(after, after_sources);
    find_identities(b, a);
    find_identities(a, b);
    MatchedProfiles matched;
    build(b, matched.before, matched.before_origin);
    build(a, matched.after, matched.after_origin);
    return matched;
}

}  // namespace pyprofd::render
