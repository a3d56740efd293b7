#pragma once
// Failures of the sampler are values, not exceptions: a read that races with the
// target or a process that exited is expected on the hot path.
#include <expected>
#include <string>

namespace pyprofd::sampler {

enum class ErrorKind {
    no_such_process,      // the PID does not exist (or exited while we looked)
    permission_denied,    // we may not read it: root or CAP_SYS_PTRACE needed
    not_python,           // no CPython interpreter found in the process
    unsupported_version,  // a CPython we cannot read
    read_failed,          // a remote read failed (address unmapped, raced with the target)
    bad_data,             // we read something that does not look like what it should be
    io,                   // a local file (/proc, ELF) could not be read
    program_replaced,     // the process exec'd: another program image, nothing of ours to read
    target_unresponsive,  // blocking mode: a thread would not stop within the deadline
    out_of_descriptors,   // attached processes hold all the descriptors they may (process_descriptor_budget())
};

struct Error {
    ErrorKind kind;
    std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return std::unexpected<Error>(Error{kind, std::move(message)});
}

const char* to_string(ErrorKind kind);

}  // namespace pyprofd::sampler
