#include "sampler/error.hpp"

namespace pyprofd::sampler {

const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::no_such_process: return "no such process";
        case ErrorKind::permission_denied: return "permission denied";
        case ErrorKind::not_python: return "not a Python process";
        case ErrorKind::unsupported_version: return "unsupported Python version";
        case ErrorKind::read_failed: return "read failed";
        case ErrorKind::bad_data: return "bad data";
        case ErrorKind::io: return "I/O error";
        case ErrorKind::program_replaced: return "program replaced";
        case ErrorKind::target_unresponsive: return "target unresponsive";
        case ErrorKind::out_of_descriptors: return "out of descriptors";
    }
    return "unknown error";
}

}  // namespace pyprofd::sampler
