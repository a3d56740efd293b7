#include "daemon/error.hpp"

#include <fmt/format.h>

namespace pyprofd::daemon {

Error process_error(pid_t pid, const sampler::Error& error) {
    switch (error.kind) {
        case sampler::ErrorKind::no_such_process:
            return {Error::Kind::not_found, fmt::format("no process {}: {}", pid, error.message), "pid"};
        case sampler::ErrorKind::permission_denied: return {Error::Kind::not_permitted, error.message, "pid"};
        case sampler::ErrorKind::out_of_descriptors: return {Error::Kind::unavailable, error.message};  // not the pid's fault
        default: return {Error::Kind::not_python, error.message, "pid"};
    }
}

}  // namespace pyprofd::daemon
