#pragma once
// Where a profiled process's Python files were, as that process saw them: its
// Python version, its working directory when pyprofd attached, and its standard
// library's directory. A frame's file means little outside its run: the same
// threading.py is /usr/lib/python3.11/threading.py in one run and
// .../versions/2.7.18/lib/python2.7/threading.py in another, and the same script
// is "app.py" under Python 2 but "/srv/app/app.py" under Python 3. With these, a
// differential profile names each file the way both runs can agree on
// (frame_identity.hpp). Written into folded stacks' header (folded.hpp) and kept
// in a session's record.
#include <string>
#include <vector>

namespace pyprofd::render {

struct ProcessSources {
    long pid = 0;                   // the process whose stacks these are; 0: every stack of the profile
    std::string python_version;     // "3.11.7"; empty when unknown
    std::string working_directory;  // at attach, as the process saw it; empty when unknown
    std::string standard_library;   // the directory holding os.py ("/usr/lib/python3.11"); empty when unknown
    bool operator==(const ProcessSources&) const = default;
};

// One entry per process sampled, the target first.
using ProfileSources = std::vector<ProcessSources>;

}  // namespace pyprofd::render
