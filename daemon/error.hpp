#pragma once
// What the daemon answers when it will not or cannot do what it was asked: a
// kind that says whose move it is (the API turns each into one HTTP status, in
// api/error_response.cpp), a message a person can act on, and the request field
// at fault where there is one. The one error type of daemon/'s and api/'s
// interfaces; inside a module, a helper whose only failure is a message may still
// return std::expected<T, std::string>.
#include <sys/types.h>

#include <expected>
#include <string>

#include "sampler/error.hpp"

namespace pyprofd::daemon {

struct Error {
    enum class Kind {
        invalid,        // a field out of range or not allowed (field says which)
        not_found,      // no such session (or not the caller's), or no such process
        not_python,     // the process runs no Python pyprofd can read
        not_permitted,  // the caller may not read the process (or it is pyprofd itself), or launch
        conflict,       // e.g. stopping a session that has ended
        too_many,       // the limit of running sessions is reached
        unavailable,    // not now: what it needs is taken (the descriptors for another process to attach)
        internal,       // pyprofd failed at something it should manage (a result it could not make)
    } kind;
    std::string message;
    std::string field = {};  // for invalid: the request field at fault
};

template <class T>
using Result = std::expected<T, Error>;

// A process pyprofd could not attach to or read, as the user sees it: gone
// (not_found), not to be read by pyprofd (not_permitted), not until other sessions
// end (unavailable), or no Python it can read (not_python). The only place that
// maps the sampler's errors for users.
Error process_error(pid_t pid, const sampler::Error& error);

}  // namespace pyprofd::daemon
