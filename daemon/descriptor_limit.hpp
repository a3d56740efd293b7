#pragma once
// The daemon's share of file descriptors. Every session holds descriptors (a pidfd,
// a few per process it follows, and thread files kept open from sample to sample),
// and so does every connection: the soft limit goes up to the hard one, then the
// connections are capped below it, and the thread files kept open are capped below
// what the connections leave, so that neither can starve the other.
#include <cstddef>

namespace pyprofd::daemon {

struct DescriptorShares {
    std::size_t connections = 0;        // open at once
    std::size_t kept_thread_files = 0;  // for sampler::thread_file_budget()
};

// Raises RLIMIT_NOFILE's soft limit to the hard one, and shares it out: the
// connections get max_connections, or fewer where the limit leaves less room
// (logged as a warning that says how to raise it); the thread files kept open get
// half of what is left once a reserve and the connections are taken, the other half
// being for the sessions' other descriptors, which are a few per process.
DescriptorShares fit_descriptor_limit(std::size_t max_connections);

}  // namespace pyprofd::daemon
