#pragma once
// Turns the sampler's stack samples into a render::Profile, applying what the
// user asked to see: idle threads or not, GIL holders only, a root per thread,
// lines or whole functions.
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "render/profile.hpp"
#include "sampler/stack_trace.hpp"

namespace pyprofd::daemon {

struct AggregationOptions {
    bool include_idle = false;  // idle (waiting, sleeping) threads too, under an <idle> leaf; py-spy's default leaves them out
    bool gil_only = false;      // only the thread holding the GIL
    bool per_thread = false;    // a root frame per thread: thread "worker-1" (4243)
    bool by_function = false;   // one frame per function, lines dropped
};

// A thread as the profile saw it.
struct SeenThread {
    std::string name;
    std::uint64_t samples = 0;  // samples in which it was counted into the profile
    pid_t namespace_tid = 0;    // its id in the target's PID namespace, where that differs; else 0
};

class SampleAggregator {
public:
    SampleAggregator(render::Profile& profile, AggregationOptions options);

    // Adds every thread of the sample that the options keep; returns how many. A
    // sample of one process of a worker tree goes under its process's root frame
    // (process_root: "process PID (command line)", outermost, above the thread's).
    std::size_t add(const sampler::StackSample& sample, std::string_view process_root = {});

    // The threads counted, up to max_threads_listed of them.
    const std::map<pid_t, SeenThread>& threads_seen() const { return threads_; }
    static constexpr std::size_t max_threads_listed = 1000;
    static constexpr std::size_t max_thread_name_bytes = 256;

    // Labels as they appear in profiles: "function (file:line)", "function (file)".
    static std::string frame_label(const sampler::Frame& frame, bool by_function);
    static std::string thread_label(pid_t tid, const std::string& name);

private:
    bool keeps(const sampler::ThreadStack& thread) const;
    render::FrameId frame_id(const sampler::Frame& frame);
    render::FrameId thread_id(const sampler::ThreadStack& thread);
    render::FrameId process_id(std::string_view label);

    static constexpr std::size_t max_cached = 1 << 16;

    render::Profile& profile_;
    AggregationOptions options_;
    // A label is built once per (code object, line), not per sample. The shared_ptr
    // keeps the code alive, so its address cannot be reused for another.
    struct CodeLine {
        const sampler::CodeInfo* code;
        int line;
        bool operator==(const CodeLine&) const = default;
    };
    struct CodeLineHash {
        std::size_t operator()(const CodeLine& k) const {
            return std::hash<const void*>()(k.code) * 31 + std::hash<int>()(k.line);
        }
    };
    std::unordered_map<CodeLine, render::FrameId, CodeLineHash> frame_ids_;
    std::vector<std::shared_ptr<const sampler::CodeInfo>> codes_kept_;
    // Each thread's label under its last name: looked up by id, the name compared, not
    // copied (a key of id and name copied the name for every thread of every sample).
    struct ThreadLabel {
        sampler::ThreadName name;  // shared with the samples: compared by address first
        render::FrameId id;
    };
    std::unordered_map<pid_t, ThreadLabel> thread_ids_;
    // Threads whose OS thread was not found (id 0) share an id: by name instead.
    std::map<std::string, render::FrameId, std::less<>> unplaced_thread_ids_;
    std::map<std::string, render::FrameId, std::less<>> process_ids_;
    std::map<pid_t, SeenThread> threads_;
    std::vector<render::FrameId> stack_;  // reused: root first
    std::optional<render::FrameId> idle_id_;
};

}  // namespace pyprofd::daemon
