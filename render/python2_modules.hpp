#pragma once
// Python 3 renamed, merged or split many standard-library modules of Python 2
// (PEP 3108): SocketServer became socketserver, BaseHTTPServer, SimpleHTTPServer
// and CGIHTTPServer became http.server, urllib's functions went to urllib.parse
// and urllib.request. A frame in Python 2's file of such a module is the same code
// as a frame in Python 3's, so a differential profile has to see them as one file.
#include <span>
#include <string_view>

namespace pyprofd::render {

// The Python 3 files (relative to the standard library's directory) that hold what
// `python2_file` (relative too: "SocketServer.py", "lib-tk/Tkinter.py") held, most
// likely first; empty when the module kept its name or has no Python 3 heir.
std::span<const std::string_view> python3_files_of(std::string_view python2_file);

}  // namespace pyprofd::render
