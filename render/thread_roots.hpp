#pragma once
// A profile kept with a root frame per thread (thread "name" (tid)) serves every
// view: speedscope's profile per thread and pprof's thread labels need them, and
// a graph of the whole process merges them away.
#include "render/profile.hpp"

namespace pyprofd::render {

// The same samples with every thread root frame left out, so that the stacks of
// all threads merge.
Profile without_thread_roots(const Profile& profile);

}  // namespace pyprofd::render
