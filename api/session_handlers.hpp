#pragma once
// The handlers of /sessions and /sessions/{id}: each translates its request into
// one call on the session manager, and the answer into JSON or a problem.
#include "api/call.hpp"

namespace pyprofd::api {

Response start_session(const Call& call);        // POST /sessions
Response list_sessions(const Call& call);        // GET /sessions?state=&limit=&offset=
Response get_session(const Call& call);          // GET /sessions/{id}
Response delete_session(const Call& call);       // DELETE /sessions/{id}
Response stop_session(const Call& call);         // POST /sessions/{id}/stop
Response get_session_output(const Call& call);   // GET /sessions/{id}/output

}  // namespace pyprofd::api
