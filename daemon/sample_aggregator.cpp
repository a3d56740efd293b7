#include "daemon/sample_aggregator.hpp"

#include <fmt/format.h>

#include "render/frame_label.hpp"
#include "render/label_text.hpp"

namespace pyprofd::daemon {

SampleAggregator::SampleAggregator(render::Profile& profile, AggregationOptions options)
    : profile_(profile), options_(options) {}

// The names come from the target: made safe here, so that the profile holds the
// same labels before a restart as after its saved folded stacks are read back.
std::string SampleAggregator::frame_label(const sampler::Frame& frame, bool by_function) {
    auto function = render::safe_label_text(frame.function());
    auto file = render::safe_label_text(frame.filename());
    if (by_function || frame.line < 0) return fmt::format("{} ({})", function, file);
    return fmt::format("{} ({}:{})", function, file, frame.line);
}

std::string SampleAggregator::thread_label(pid_t tid, const std::string& name) {
    if (name.empty()) return fmt::format("thread ({})", tid);
    return fmt::format("thread \"{}\" ({})", render::safe_label_text(name), tid);
}

bool SampleAggregator::keeps(const sampler::ThreadStack& thread) const {
    if (thread.error || thread.frames.empty()) return false;
    if (options_.gil_only) return thread.holds_gil.value_or(false);
    // A thread whose activity is unknown is kept: better shown than silently lost.
    if (!options_.include_idle) return thread.activity != sampler::ThreadActivity::idle;
    return true;
}

render::FrameId SampleAggregator::frame_id(const sampler::Frame& frame) {
    CodeLine key{frame.code.get(), options_.by_function ? -1 : frame.line};
    auto it = frame_ids_.find(key);
    if (it != frame_ids_.end()) return it->second;
    auto id = profile_.intern(frame_label(frame, options_.by_function));
    // A label past the profile's limits is not kept, and neither is its code. A target
    // that makes fresh code objects all the time would grow the cache without end:
    // it starts again when full (the profile still knows the labels).
    if (id == render::Profile::no_frame) return id;
    if (frame_ids_.size() >= max_cached) {
        frame_ids_.clear();
        codes_kept_.clear();
    }
    frame_ids_.emplace(key, id);
    codes_kept_.push_back(frame.code);
    return id;
}

render::FrameId SampleAggregator::thread_id(const sampler::ThreadStack& thread) {
    if (thread.native_id == 0) {
        auto it = unplaced_thread_ids_.find(std::string_view(thread.name));
        if (it != unplaced_thread_ids_.end()) return it->second;
        auto id = profile_.intern(thread_label(thread.native_id, thread.name.str()));
        if (id == render::Profile::no_frame) return id;
        if (unplaced_thread_ids_.size() >= max_cached) unplaced_thread_ids_.clear();
        unplaced_thread_ids_.emplace(thread.name.str(), id);
        return id;
    }
    auto it = thread_ids_.find(thread.native_id);
    if (it != thread_ids_.end() && it->second.name == thread.name) return it->second.id;
    auto id = profile_.intern(thread_label(thread.native_id, thread.name.str()));
    if (id == render::Profile::no_frame) return id;
    if (it != thread_ids_.end()) {  // renamed
        it->second = {thread.name, id};
        return id;
    }
    if (thread_ids_.size() >= max_cached) thread_ids_.clear();
    thread_ids_.emplace(thread.native_id, ThreadLabel{thread.name, id});
    return id;
}

render::FrameId SampleAggregator::process_id(std::string_view label) {
    auto it = process_ids_.find(label);
    if (it != process_ids_.end()) return it->second;
    auto id = profile_.intern(label);
    if (id == render::Profile::no_frame) return id;
    if (process_ids_.size() >= max_cached) process_ids_.clear();
    process_ids_.emplace(std::string(label), id);
    return id;
}

std::size_t SampleAggregator::add(const sampler::StackSample& sample, std::string_view process_root) {
    std::size_t added = 0;
    for (const auto& thread : sample.threads) {
        if (!keeps(thread)) continue;
        stack_.clear();
        if (!process_root.empty()) stack_.push_back(process_id(process_root));
        if (options_.per_thread) stack_.push_back(thread_id(thread));
        for (auto frame = thread.frames.rbegin(); frame != thread.frames.rend(); ++frame)
            stack_.push_back(frame_id(*frame));
        // A waiting thread's time is marked as such, so the graph shows (in grey)
        // how much of a function's time was spent waiting rather than running.
        if (thread.activity == sampler::ThreadActivity::idle) {
            if (!idle_id_) idle_id_ = profile_.intern(render::idle_frame_label);
            stack_.push_back(*idle_id_);
        }
        profile_.add(stack_);
        // Threads are listed up to a limit: a target that starts threads without end
        // does not grow the session's record without end.
        auto seen = threads_.find(thread.native_id);
        if (seen == threads_.end() && threads_.size() < max_threads_listed)
            seen = threads_.emplace(thread.native_id, SeenThread{}).first;
        if (seen != threads_.end()) {
            auto name = std::string_view(thread.name).substr(0, max_thread_name_bytes);
            if (seen->second.name != name) seen->second.name = name;
            seen->second.namespace_tid = thread.namespace_tid;
            ++seen->second.samples;
        }
        ++added;
    }
    return added;
}

}  // namespace pyprofd::daemon
