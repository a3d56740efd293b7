#pragma once
// The Python processes a caller may profile (GET /processes): the sampler's cheap
// scan of /proc (sampler/python_process_scan: no process attached), narrowed by the
// trust rules, AccessPolicy::allows_process: root and admins see every one but
// pyprofd itself, a user its own dumpable ones, and targets.allowed_* narrow that for
// everyone. A user's scan passes over other users' processes before reading their
// maps.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "daemon/access_policy.hpp"
#include "daemon/caller.hpp"
#include "sampler/python_process_scan.hpp"

namespace pyprofd::daemon {

struct PythonProcessList {
    std::vector<sampler::PythonProcessListing> processes;  // by PID
    std::size_t skipped = 0;  // the caller's that looked like Python but could not be read
};

PythonProcessList list_python_processes(sampler::PythonProcessScan& scan, const AccessPolicy& policy,
                                        const Caller& caller);

// As openapi.yaml's ProcessList says: each process's user by name (its uid as text
// where the user database has none), its start in ISO 8601 UTC.
nlohmann::json python_process_list_to_json(const PythonProcessList& list);

}  // namespace pyprofd::daemon
