#pragma once
// The daemon's share of file descriptors. Every session holds descriptors (a pidfd,
// one per target thread while it runs), and so does every connection: the soft
// limit goes up to the hard one, and the connections are capped below it, leaving
// room for the sessions and files.
#include <cstddef>

namespace pyprofd::daemon {

// Raises RLIMIT_NOFILE's soft limit to the hard one; returns how many connections
// may be open at once: max_connections, or fewer where the limit leaves less room
// (logged as a warning that says how to raise it).
std::size_t fit_descriptor_limit(std::size_t max_connections);

}  // namespace pyprofd::daemon
