#pragma once
// What the daemon's unit tests give the session manager in place of
// sampler::PythonProcess::attach: whatever pid it is asked for "attaches" to a
// CPython 3.11 built by hand (fake_cpython.hpp) with one thread, MainThread, in
// work() called from <module>. Samples of it are read from that image, never from
// the process the pid names (which the access rules still look at).
#include <sys/types.h>

#include <functional>

#include "sampler/error.hpp"
#include "sampler/python_process.hpp"
#include "tests/support/fake_cpython.hpp"

namespace pyprofd::tests {

inline sampler::Result<sampler::PythonProcess> attach_fake_python(pid_t pid) {
    FakeCPython image(3, 11,
                      {{.name = "MainThread",
                        .frames = {{"work", "/srv/app/job.py", 10, 12}, {"<module>", "/srv/app/job.py", 1, 30}}}});
    return sampler::PythonProcess::attach_to_address_space(pid, FakeCPython::binary(), image.address_space());
}

// An attach that fails as the sampler would, with this kind of error.
inline std::function<sampler::Result<sampler::PythonProcess>(pid_t)> failing_attach(sampler::ErrorKind kind) {
    return [kind](pid_t pid) -> sampler::Result<sampler::PythonProcess> {
        return sampler::fail(kind, "process " + std::to_string(pid) + ": made to fail by the test");
    };
}

}  // namespace pyprofd::tests
