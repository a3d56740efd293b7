#pragma once
// A Python frame's file named so that another run of the same program, under
// another Python version, names it the same way. Differential profiles match frames
// on it (frame_matching.hpp); every other output keeps the full paths, which people
// click through to.
//
//   - the standard library: "<stdlib>/socketserver.py", whatever the prefix
//     (/usr/lib/python3.11, .../versions/2.7.18/lib/python2.7), frozen modules
//     ("<frozen runpy>") included, and Python 2's renamed modules under their Python 3
//     names (python2_modules.hpp);
//   - installed packages: "<site>/flask/app.py" (site-packages, dist-packages, any prefix);
//   - the program's own files: relative to the process's working directory when it was
//     attached, so that Python 2's "app.py" (as it was started) and Python 3's
//     "/srv/app/app.py" (made absolute) meet; other paths as they are.
#include <string>
#include <string_view>
#include <vector>

#include "render/profile_sources.hpp"

namespace pyprofd::render {

inline constexpr std::string_view standard_library_prefix = "<stdlib>/";
inline constexpr std::string_view site_packages_prefix = "<site>/";

struct SourceFile {
    std::string name;
    // Where else the same code may be: a Python 2 module that Python 3 split in
    // several files (urllib: urllib/parse.py, urllib/request.py), the rest of them.
    std::vector<std::string> alternatives;
};

// `sources` may be null (folded stacks of another tool, which say nothing of their
// process): the standard library and packages are then told by their paths' shape
// (.../lib/pythonX.Y/..., .../site-packages/...), and the program's files are kept
// as given, relative ones made plain ("./app.py" is "app.py").
SourceFile normalized_source_file(std::string_view file, const ProcessSources* sources);

}  // namespace pyprofd::render
