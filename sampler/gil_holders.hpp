#pragma once
// Who holds each GIL of a Python process, read from its memory now.
//
// Every CPython with a GIL keeps a word that a thread sets to its own thread state
// after it takes the GIL and before it runs any Python:
// - 2.7 and 3.6: _PyThreadState_Current; 3.7 to 3.11: _PyRuntime's
//   gilstate.tstate_current. Swapped in right after taking the GIL, swapped to NULL
//   right before dropping it: NULL while the GIL is free.
// - 3.12+: each interpreter's GIL (ceval.gil; a subinterpreter may have its own, or
//   share the main one) and its last_holder, written in take_gil by a thread other
//   than the one it names, and left in place when the GIL is dropped.
// So no thread but the one a word names has run Python since that word was last
// written: blocking mode's proof that a sample was exact rests on this
// (sampler/pause_proof.hpp).
#include <optional>
#include <vector>

#include "sampler/layout.hpp"
#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

class GilHolders {
public:
    // Where the interpreter keeps its state: _PyRuntime (3.7+), interp_head (2.7, 3.6)
    // and _PyThreadState_Current (2.7, 3.6), as attach found them.
    GilHolders(const Layout& layout, std::optional<RemoteAddress> runtime, std::optional<RemoteAddress> interp_head,
               std::optional<RemoteAddress> current_thread)
        : layout_(&layout), runtime_(runtime), interp_head_(interp_head), current_thread_(current_thread) {}

    // The word of every GIL in use, read now and past any snapshot (one per GIL: 3.12+
    // interpreters that share a GIL give one). A thread-state address, or 0 where a
    // GIL is free (2.7 to 3.11) or never taken. nullopt where this process cannot say:
    // the version keeps no such word where we can find it, or a read failed.
    std::optional<std::vector<RemoteAddress>> read(const RemoteMemory& memory) const;

private:
    const Layout* layout_;
    std::optional<RemoteAddress> runtime_;
    std::optional<RemoteAddress> interp_head_;
    std::optional<RemoteAddress> current_thread_;
};

}  // namespace pyprofd::sampler
