#pragma once
// GET /debug/pprof/profile?pid=PID&seconds=N[&rate_hz=R]: a profile that fleet tools
// pull as they pull Go's (go tool pprof URL, Parca's scraper, Grafana Alloy's
// pyroscope.scrape): it starts a session as POST /sessions does (the same checks,
// limits and errors, for the same caller), waits its N seconds without holding an
// io thread (a DeferredResponse on timers), and answers the session's profile.pb.gz
// as Go's net/http/pprof answers its own. The session stays, named "pprof pull",
// like any other. A client that goes away before the end stops it: nobody is left
// to read it, and it would go on costing the target and a running slot.
#include "api/call.hpp"

namespace pyprofd::api {

Response pull_pprof_profile(const Call& call);

}  // namespace pyprofd::api
