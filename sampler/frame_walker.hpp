#pragma once
// Walks one thread's chain of Python frames, innermost first: PyFrameObject.f_back
// up to 3.10, _PyInterpreterFrame.previous from 3.11 (skipping the frames the C
// stack owns). Every frame is checked before it is believed.
#include <span>
#include <vector>

#include "sampler/code_cache.hpp"
#include "sampler/local_buffers.hpp"
#include "sampler/remote_limits.hpp"
#include "sampler/stack_trace.hpp"

namespace pyprofd::sampler {

class FrameWalker {
public:
    static constexpr std::size_t default_max_depth = max_frames_per_thread;

    FrameWalker(const ObjectReader& reader, CodeCache& codes, std::size_t max_depth = default_max_depth)
        : reader_(reader), codes_(codes), max_depth_(max_depth), frame_span_(frame_view(reader.layout()).span()) {}

    // `frame_field` is the value of the thread state's frame field (see ThreadFrameAccess).
    Result<std::vector<Frame>> walk(RemoteAddress frame_field) const;

private:
    // A frame as read, before its code object is looked up.
    struct RawFrame {
        RemoteAddress code;
        std::int64_t offset;  // of the current instruction in the bytecode, in bytes
    };

    Result<std::vector<Frame>> resolve(std::span<const RawFrame> raw) const;
    Result<std::vector<Frame>> walk_frame_objects(RemoteAddress frame) const;
    Result<std::vector<Frame>> walk_interpreter_frames(RemoteAddress frame) const;

    static BufferView frame_view(const Layout& layout) {
        return layout.frames == FrameModel::frame_objects ? frame_object_view(layout) : interpreter_frame_view(layout);
    }

    const ObjectReader& reader_;
    CodeCache& codes_;
    std::size_t max_depth_;
    std::size_t frame_span_;  // the bytes of a frame read: within frame_buffer_size, checked at attach
    // Reused from walk to walk (a walker lives as long as its process): a stack read
    // allocates only the frames it returns. At 10 kHz the growing vectors were about
    // ten allocations a sample.
    mutable std::vector<RawFrame> raw_;
    mutable std::vector<RemoteAddress> code_addresses_;
    mutable std::vector<std::shared_ptr<const CodeInfo>> infos_;
};

}  // namespace pyprofd::sampler
