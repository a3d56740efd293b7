#pragma once
// A profile kept with a root frame per thread (thread "name" (tid)) serves every
// view: speedscope's profile per thread and pprof's thread labels need them, and
// a graph of the whole process merges them away. A profile of a worker tree
// (--subprocesses) has a root frame per process above them: process PID (command
// line). Every format reads a stack's root frames here, so each knows them the
// same way, and the process roots stay in every format's stacks.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "render/profile.hpp"

namespace pyprofd::render {

// Which frames of a profile are process and thread roots, told from their labels once.
class RootFrames {
public:
    explicit RootFrames(const Profile& profile);

    // A stack's root frames, as positions in its path (root first): a process root
    // only first, a thread root first or right under a process root.
    struct Roots {
        std::optional<std::size_t> process;
        std::optional<std::size_t> thread;
        std::size_t first_frame = 0;  // the first position below the roots
    };
    Roots of(std::span<const NodeId> path) const;

    bool is_thread_root(FrameId frame) const { return kinds_[frame] == Kind::thread; }
    bool is_process_root(FrameId frame) const { return kinds_[frame] == Kind::process; }
    bool has_process_roots() const { return has_process_roots_; }

private:
    enum class Kind : unsigned char { frame, thread, process };
    const Profile& profile_;
    std::vector<Kind> kinds_;
    bool has_process_roots_ = false;
};

// The same samples with every thread root frame left out, so that the stacks of
// all threads merge (those of one process, where there are process roots: these stay).
Profile without_thread_roots(const Profile& profile);

}  // namespace pyprofd::render
