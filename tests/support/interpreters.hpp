#pragma once
// The real Python interpreters on this machine that the tests run against:
// pyenv's builds (shared libpython) and the distribution's own (static).
#include <string>
#include <vector>

namespace pyprofd::tests {

struct Interpreter {
    std::string label;        // "pyenv 3.11.7", "debian 3.11"
    std::string executable;   // absolute path
    std::string include_dir;  // its headers (include/pythonX.Y), empty where not installed
    int major = 0;
    int minor = 0;

    bool at_least(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
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

// The first interpreter of each frame model (frame objects up to 3.10, interpreter
// frames from 3.11): for tests of code that knows no versions.
std::vector<Interpreter> one_of_each_frame_model();

}  // namespace pyprofd::tests
