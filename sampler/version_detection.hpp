#pragma once
// Which CPython a process runs, from the most to the least reliable evidence:
// the _Py_DebugOffsets header (3.13+), Py_Version (3.11+), the string that
// Py_GetVersion() leaves in a static buffer, and last the file name.
#include <optional>

#include "sampler/python_binary.hpp"
#include "sampler/python_version.hpp"

namespace pyprofd::sampler {

Result<PythonVersion> detect_python_version(const RemoteMemory& memory, const PythonBinary& binary,
                                            std::optional<RemoteAddress> runtime);

// major.minor from a file name such as libpython3.9.so.1.0 or python3.11, if it has one.
std::optional<PythonVersion> version_from_file_name(std::string_view path);

}  // namespace pyprofd::sampler
