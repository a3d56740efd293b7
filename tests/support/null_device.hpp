#pragma once
// A sink for output a test does not read: a null device node (c 1:3) of the test's
// own, in its scratch directory, never the host's /dev/null. A bug that replaced
// the sink with a file then harms nothing outside the test.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tests/support/scratch_dir.hpp"

namespace pyprofd::tests {

inline std::string make_null_device(const ScratchDir& dir, const std::string& name = "null") {
    auto path = dir.file(name);
    REQUIRE_MESSAGE(::mknod(path.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0,
                    "cannot make a null device at " << path << ": " << std::strerror(errno) << " (needs root)");
    ::chmod(path.c_str(), 0666);  // as /dev/null is, whatever the umask
    return path;
}

}  // namespace pyprofd::tests
