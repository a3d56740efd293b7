#pragma once
// The handlers of the daemon itself rather than of a session: its index page,
// health, metrics and contract, the Python processes there are, and a process's
// stacks now.
#include "api/call.hpp"

namespace pyprofd::api {

Response get_index(const Call& call);           // GET /: the console, with the caller's sessions
Response get_health(const Call& call);          // GET /healthz, for anyone
Response get_metrics(const Call& call);         // GET /metrics, Prometheus' text format
Response get_openapi(const Call& call);         // GET /openapi.yaml: the contract served
Response get_process_stacks(const Call& call);  // GET /processes/{pid}/stacks
Response list_processes(const Call& call);      // GET /processes: the Python processes the caller may profile

}  // namespace pyprofd::api
