#pragma once
// Two profiles of one program, as a differential profile compares them: the same
// code named the same way in both, though the runs were under different Python
// versions (2.7 and 3.x, say), in different directories, with different process and
// thread ids.
//
// Each frame "function (file:line)" becomes "function (file)": lines dropped (they
// move between versions of a file), the file as frame_identity.hpp names it, and the
// function under the name both runs know it by. Python 2 and Python 3 before 3.11
// keep a function's bare name ("run", "__bootstrap"), 3.11 on its qualified name
// ("Thread.run", "Thread._bootstrap"): a bare name takes the other run's qualified
// name in the same file whose last part it is, when exactly one has it. So does a
// Python 2 private name that Python 3 gave one underscore less ("__bootstrap_inner",
// "Thread._bootstrap_inner"). A name that is still ambiguous, or has no counterpart,
// stays as it is and matches nothing: better unmatched than matched wrongly.
//
// Thread and process root frames are left out (their ids differ between runs), so
// every thread's stacks merge; so are the interpreter's own shim frames that only some
// versions have (3.12's "<interpreter trampoline> (<shim>)", 3.14's "__init__ (__init__)"). Frames that are not Python (native code, <idle>) keep
// their labels.
#include <string>
#include <vector>

#include "render/profile.hpp"
#include "render/profile_sources.hpp"

namespace pyprofd::render {

struct MatchedProfiles {
    Profile before, after;
    // For each frame of `before` and `after` (by FrameId): where the input's frame it
    // stands for was, full path and line ("/usr/lib/python3.11/threading.py:1002"; the
    // one with the most samples), for a tooltip; empty for frames that are not Python.
    std::vector<std::string> before_origin, after_origin;
};

// `sources` say where each run's files were (empty: unknown, paths then tell what
// they can); a stack under a process root takes its process's entry, others the first.
MatchedProfiles match_profiles(const Profile& before, const ProfileSources& before_sources, const Profile& after,
                               const ProfileSources& after_sources);

}  // namespace pyprofd::render
