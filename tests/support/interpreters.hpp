#pragma once
// The real Python interpreters on this machine that the tests run against:
// pyenv's builds (shared libpython), the distribution's own (static), and Debian
// sid's python3.14 and python3.15 in the root scripts/make-sid-root makes, run
// inside it with chroot as users run them there.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace pyprofd::tests {

struct Interpreter {
    std::string label;        // "pyenv 3.11.7", "debian 3.11", "debian-sid 3.14"
    std::string executable;   // absolute path, as the interpreter's process sees it
    std::string include_dir;  // its headers (include/pythonX.Y) as we see them, empty where not installed
    // Where <ARCH/pythonX.Y/pyconfig.h> is found, if not on the compiler's own path
    // (a root's usr/include): searched after the system's headers.
    std::string arch_include_dir;
    // The root it runs in with chroot (as we see it), empty for one that runs here.
    std::string root;
    int major = 0;
    int minor = 0;

    bool at_least(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
    bool in_chroot() const { return !root.empty(); }

    // The command that runs it with these arguments: the executable itself, or, for
    // one in a root, the chroot into it in a mount namespace of its own (with /proc,
    // and the tests' sources and /tmp at the same paths), as `run_as` where given.
    // Every step execs the next, so the PID of the command is the interpreter's.
    std::vector<std::string> command(const std::vector<std::string>& args, std::string cwd = {},
                                     std::optional<uid_t> run_as = {}) const;
    // The same as options to start a ChildProcess with (run_as as the options take it).
    SpawnOptions spawn(const std::vector<std::string>& args, std::string cwd = {},
                       std::optional<uid_t> run_as = {}) const;
};

// Every interpreter found; prints once which were found and which expected ones were
// not (and so are skipped). Where missing ones are not allowed (interpreters_required),
// it throws instead, saying which are missing: a test that loops over them fails
// rather than pass having run against nothing.
const std::vector<Interpreter>& interpreters();

// Whether every expected interpreter must be there: in CI (the CI environment
// variable set, as .ci/run sets it), so that a CI machine without them fails.
// Elsewhere they are skipped, and said so.
bool interpreters_required();

// Where scripts/make-sid-root makes the Debian sid root: $PYPROFD_SID_ROOT, else
// /var/cache/pyprofd/sid-root.
std::string sid_root();

// The first interpreter of each frame model (frame objects up to 3.10, interpreter
// frames from 3.11): for tests of code that knows no versions.
std::vector<Interpreter> one_of_each_frame_model();

}  // namespace pyprofd::tests
