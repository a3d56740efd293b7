#include "sampler/frame_walker.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "sampler/byte_reads.hpp"

namespace pyprofd::sampler {
namespace {

std::unexpected<Error> too_deep(std::size_t max_depth) {
    return fail(ErrorKind::bad_data,
                fmt::format("more than {} frames: a cycle read while the stack changed, or a very deep "
                            "recursion",
                            max_depth));
}

int line_or_first(const CodeInfo& code, std::int64_t offset) {
    // An offset before the first instruction is a frame that has not started yet.
    if (offset < 0) return code.first_line;
    if (offset > 0x7fffffff) return -1;
    return code.lines.line_at(static_cast<std::uint32_t>(offset));
}

}  // namespace

Result<std::vector<Frame>> FrameWalker::walk(RemoteAddress frame_field) const {
    const auto& layout = reader_.layout();
    if (layout.frames == FrameModel::frame_objects) return walk_frame_objects(frame_field);
    RemoteAddress frame = frame_field;
    if (layout.frame_access == ThreadFrameAccess::through_cframe && frame != 0) {
        auto current = reader_.read_pointer(field_address(frame, layout.cframe.current_frame));
        if (!current) return std::unexpected(current.error());
        frame = *current;
    }
    return walk_interpreter_frames(frame);
}

Result<std::vector<Frame>> FrameWalker::walk_frame_objects(RemoteAddress frame) const {
    const auto& layout = reader_.layout();
    const auto& f = layout.frame_object;
    std::array<std::byte, frame_buffer_size> block{};
    auto& frames = raw_;
    frames.clear();
    while (frame != 0) {
        if (frames.size() >= max_depth_) return too_deep(max_depth_);
        if (auto ok = reader_.memory().read(frame, std::span(block).first(frame_span_)); !ok)
            return std::unexpected(ok.error());
        if (load<RemoteAddress>(block.data(), layout.object.ob_type) != reader_.types().frame)
            return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not a frame", frame));
        std::int64_t offset = load<std::int32_t>(block.data(), f.lasti);
        if (layout.instruction_pointer == InstructionPointer::lasti_code_units) offset *= 2;
        frames.push_back({load<RemoteAddress>(block.data(), f.code), offset});
        frame = load<RemoteAddress>(block.data(), f.back);
    }
    return resolve(frames);
}

Result<std::vector<Frame>> FrameWalker::walk_interpreter_frames(RemoteAddress frame) const {
    const auto& layout = reader_.layout();
    const auto& f = layout.interpreter_frame;
    std::array<std::byte, frame_buffer_size> block{};
    auto& frames = raw_;
    frames.clear();
    std::size_t visited = 0;
    while (frame != 0) {
        if (++visited > max_depth_) return too_deep(max_depth_);
        if (auto ok = reader_.memory().read(frame, std::span(block).first(frame_span_)); !ok)
            return std::unexpected(ok.error());
        RemoteAddress previous = load<RemoteAddress>(block.data(), f.previous);
        // Shim frames (where C code called into the interpreter; 3.15's base frame) carry
        // no Python code: skipped, and the walk goes on past them.
        if (f.owner != absent && static_cast<int>(load<std::uint8_t>(block.data(), f.owner)) >= f.first_shim_owner) {
            frame = previous;
            continue;
        }
        RemoteAddress code_address = load<RemoteAddress>(block.data(), f.code);
        // A _PyStackRef keeps its tags in the low two bits (a code object's address is
        // 8-aligned); the code cache still checks that it points at a code object.
        if (layout.frame_code == CodeReference::stack_ref) code_address &= ~RemoteAddress{3};
        auto instr = load<RemoteAddress>(block.data(), f.instr_ptr);
        auto first_instruction = field_address(code_address, layout.code.code_adaptive);
        frames.push_back({code_address, static_cast<std::int64_t>(instr - first_instruction)});
        frame = previous;
    }
    return resolve(frames);
}

Result<std::vector<Frame>> FrameWalker::resolve(std::span<const RawFrame> raw) const {
    auto& codes = code_addresses_;
    codes.clear();
    for (const auto& r : raw) codes.push_back(r.code);
    auto& infos = infos_;
    if (auto ok = codes_.lookup(codes, infos); !ok) return std::unexpected(ok.error());
    std::vector<Frame> frames;
    frames.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const int line = line_or_first(*infos[i], raw[i].offset);
        frames.push_back({std::move(infos[i]), line});
    }
    return frames;
}

}  // namespace pyprofd::sampler
