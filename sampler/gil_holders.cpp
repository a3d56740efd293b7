#include "sampler/gil_holders.hpp"

#include <algorithm>

#include "sampler/byte_reads.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {
namespace {

// One word, read now: read_many bypasses the sample's snapshot, whose pages were
// read when the sample began.
std::optional<RemoteAddress> word_now(const RemoteMemory& memory, RemoteAddress address) {
    RemoteAddress value = 0;
    const RemoteMemory::ReadRequest request{address, std::as_writable_bytes(std::span(&value, 1))};
    if (memory.read_many(std::span(&request, 1)) != 1) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::vector<RemoteAddress>> GilHolders::read(const RemoteMemory& memory) const {
    const Layout& layout = *layout_;
    switch (layout.gil) {
        case GilModel::current_thread_symbol: {
            if (!current_thread_) return std::nullopt;
            auto holder = word_now(memory, *current_thread_);
            if (!holder) return std::nullopt;
            return std::vector{*holder};
        }
        case GilModel::runtime_tstate_current: {
            if (!runtime_ || layout.runtime.tstate_current == absent) return std::nullopt;
            auto holder = word_now(memory, field_address(*runtime_, layout.runtime.tstate_current));
            if (!holder) return std::nullopt;
            return std::vector{*holder};
        }
        case GilModel::interpreter_gil: {
            if (layout.interpreter.ceval_gil == absent || layout.gil_state.last_holder == absent) return std::nullopt;
            std::optional<RemoteAddress> interp;
            if (layout.runtime.interpreters_head != absent && runtime_)
                interp = word_now(memory, field_address(*runtime_, layout.runtime.interpreters_head));
            else if (layout.runtime.interpreters_head == absent && interp_head_)
                interp = word_now(memory, *interp_head_);
            if (!interp || *interp == 0) return std::nullopt;
            std::vector<RemoteAddress> gils, holders;
            for (std::size_t i = 0; *interp != 0; ++i) {
                if (i >= max_interpreters) return std::nullopt;  // a cycle, or not an interpreter list
                auto gil = word_now(memory, field_address(*interp, layout.interpreter.ceval_gil));
                if (!gil || *gil == 0) return std::nullopt;  // being made or torn down: no proof
                if (std::ranges::find(gils, *gil) == gils.end()) {
                    auto holder = word_now(memory, field_address(*gil, layout.gil_state.last_holder));
                    if (!holder) return std::nullopt;
                    gils.push_back(*gil);
                    holders.push_back(*holder);
                }
                interp = word_now(memory, field_address(*interp, layout.interpreter.next));
                if (!interp) return std::nullopt;
            }
            return holders;
        }
    }
    return std::nullopt;
}

}  // namespace pyprofd::sampler
