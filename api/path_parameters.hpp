#pragma once
// The parameters a route's path template names, read and checked once for every
// route that has them.
#include <sys/types.h>

#include <map>
#include <string>

#include "daemon/error.hpp"

namespace pyprofd::api {

struct PathParameters {
    std::string id;     // {id}: a session
    std::string other;  // {other}: the session a difference is taken against
    pid_t pid = 0;      // {pid}: a process
};

// A session id that cannot be one is not_found, like a session that is not there; a
// pid that is not a process id is invalid (field "pid").
daemon::Result<PathParameters> path_parameters(const std::map<std::string, std::string>& texts);

}  // namespace pyprofd::api
