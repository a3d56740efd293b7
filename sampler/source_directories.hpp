#pragma once
// Where a Python process's files are named from, found once at attach: its working
// directory (relative file names, such as the script Python 2 keeps as it was
// invoked, are relative to it) and its standard library's directory (the prefix of
// every frame in os.py, threading.py, ...). Both as the process sees them: a process
// in a chroot names them from its own root. Neither is needed to read stacks, so
// neither can fail an attach: what cannot be found is left empty.
#include <sys/types.h>

#include <string>
#include <string_view>

namespace pyprofd::sampler {

struct SourceDirectories {
    std::string working_directory;  // "/srv/app"; empty when unknown
    std::string standard_library;   // "/usr/lib/python3.11"; empty when unknown
};

// /proc/PID/cwd as the process whose root directory is `root` (read_process_root's
// answer) sees it. Empty when it cannot be read, or lies outside that root (the
// process could not name it either).
std::string read_working_directory(pid_t pid, std::string_view root);

// The directory D/lib/pythonX.Y (or D/lib64/...) that holds os.py (or os.pyc), for
// the nearest ancestor D of `interpreter_path` (the interpreter's file as the process
// sees it: its executable, or libpythonX.Y.so) that has one: how CPython finds its
// own prefix when nothing overrides it (PYTHONHOME). /usr/bin/python3.11 and
// /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 give /usr/lib/python3.11;
// ~/.pyenv/versions/2.7.18/lib/libpython2.7.so.1.0 gives
// ~/.pyenv/versions/2.7.18/lib/python2.7. The target's owner controls that tree, so
// each candidate is looked at only as is_regular_file_in_root does, resolved inside
// `root_directory` (/proc/PID/root), and only so many ancestors are tried. Empty
// when none has it (a virtualenv made with --copies, whose interpreter sits apart
// from its library, is one such).
std::string find_standard_library(const std::string& root_directory, std::string_view interpreter_path, int major,
                                  int minor);

// Both, for the process `pid` whose root directory is `root` and whose interpreter's
// file is `interpreter_path`, for Python major.minor.
SourceDirectories find_source_directories(pid_t pid, std::string_view root, std::string_view interpreter_path,
                                          int major, int minor);

}  // namespace pyprofd::sampler
