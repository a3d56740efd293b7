#pragma once
// Epochs in which no code object was freed, for the code cache (CodeCache::set_epoch).
//
// CPython 3.14+ counts, per interpreter, the code objects it frees
// (PyInterpreterState._code_object_generation, named in _Py_DebugOffsets). While every
// interpreter's count reads as it did at the last sample, no code object was freed in
// between, so one read at an address is still the one there and its cached names need
// no check. Each sample's first read brings the counts; equal counts continue the
// epoch, anything else (a count moved, an interpreter came or went, a read failed)
// starts a new one or gives none. Without the field (3.13 and older) there is no
// epoch and the cache checks its entries every sample, as before.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sampler/layout.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

class CodeEpochs {
public:
    // generation_field: Layout::interpreter.code_object_generation (absent: no epochs).
    explicit CodeEpochs(Offset generation_field) : field_(generation_field) {}

    // The reads of the counts of `interpreters` (those the last thread list walked),
    // for the sample's first read; none without the field or the interpreters.
    std::span<const RemoteMemory::ReadRequest> requests(std::span<const RemoteAddress> interpreters);
    // After the first read, whether all of requests() were read: this sample's epoch,
    // or nullopt.
    std::optional<std::uint64_t> epoch_after_read(bool all_read);
    // This sample's thread list walked `interpreters`: whether they are those whose
    // counts were read (if not, the sample has no epoch, and the next starts a new one).
    bool covers(std::span<const RemoteAddress> interpreters) const;
    // Whether the last sample continued the epoch of the one before it: the next one
    // likely will too, and its code checks need not be read up front.
    bool holding() const { return holding_; }

private:
    Offset field_;
    std::vector<RemoteAddress> reading_;  // the interpreters of requests()
    std::vector<std::uint64_t> counts_;   // what requests() read into
    std::vector<RemoteMemory::ReadRequest> requests_;
    std::vector<RemoteAddress> last_interpreters_;
    std::vector<std::uint64_t> last_counts_;
    std::uint64_t epoch_ = 0;
    bool holding_ = false;
};

}  // namespace pyprofd::sampler
