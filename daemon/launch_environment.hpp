#pragma once
// The environment a program the daemon launches gets: PATH, LANG, HOME, USER and
// LOGNAME, and what its session's request sets within the configured limits, never
// the daemon's own (which may hold its secrets, and says nothing the program needs).
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/launched_program.hpp"

namespace pyprofd::daemon {

// NAME=value entries: PATH (the login default for the user: /usr/local/bin:/usr/bin:/bin,
// with the sbin directories for root) and LANG=C.UTF-8 unless requested says otherwise,
// HOME, USER and LOGNAME of the user it runs as, then the rest of requested.
std::vector<std::string> launch_environment(const RunAs& as, const std::map<std::string, std::string>& requested = {});

// Whether a session's request may give a launched program these variables: names of
// letters, digits and '_' (not first a digit), values without NUL, within the
// limits; not HOME, USER or LOGNAME (pyprofd sets them, for the user the program
// runs as), nor the dynamic loader's LD_* (they would load other code into the
// program than the executable targets.allowed_executables allows). The error says
// which and why.
std::expected<void, std::string> check_requested_environment(const std::map<std::string, std::string>& requested,
                                                             std::size_t max_variables, std::size_t max_bytes);

// The value of NAME in NAME=value entries; empty if it has none.
std::string_view environment_value(const std::vector<std::string>& environment, std::string_view name);

}  // namespace pyprofd::daemon
