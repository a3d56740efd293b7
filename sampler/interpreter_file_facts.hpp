#pragma once
// What the file that may hold a CPython interpreter (a libpython, or a statically
// built executable) says of it, read from the file alone, never from a process:
// whether it defines the interpreter, and which version it is where the file holds
// that. The list of a host's Python processes asks this once per file, not once per
// process, and attaches to none of them.
//
// The version, from the most to the least exact evidence the file holds:
//  - Py_Version (3.11+), a constant of PY_VERSION_HEX the file initialises;
//  - the PY_VERSION string ("3.9.18", "3.12.0+") among the file's constant strings,
//    where the file's name says major.minor and exactly one such string of that
//    major.minor ends with a NUL (the compiler may share its bytes with the tail of a
//    longer string, such as the prefix "/root/.pyenv/versions/3.9.18");
//  - major.minor alone from the file's name (libpython3.9.so.1.0, python2.7).
#include <cstdint>
#include <optional>
#include <string_view>

#include "sampler/elf_file.hpp"
#include "sampler/error.hpp"
#include "sampler/python_version.hpp"
#include "sampler/regular_file.hpp"

namespace pyprofd::sampler {

struct InterpreterFileFacts {
    bool defines_interpreter = false;  // PyCode_Type and Py_Initialize(Ex)
    std::optional<PythonVersion> version;
};

// Files larger than this are not read for it (the largest interpreter here, libpython3.13,
// is 31 MB): what a file may cost a listing stays small whoever made the file.
inline constexpr std::uint64_t max_interpreter_file_bytes = std::uint64_t{256} << 20;
// The constant strings searched for PY_VERSION, at most.
inline constexpr std::uint64_t max_constant_bytes_searched = std::uint64_t{16} << 20;

// Reads the file (path: as the process names it, for its name and for errors).
Result<InterpreterFileFacts> read_interpreter_file_facts(const RegularFile& file, std::string_view path);

// The PY_VERSION string of major.minor among constant strings, if exactly one version
// of it is there (see above); exposed for its unit test.
std::optional<PythonVersion> version_string_in(std::string_view constants, int major, int minor);

}  // namespace pyprofd::sampler
