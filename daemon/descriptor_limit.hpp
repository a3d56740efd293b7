#pragma once
// The daemon's share of file descriptors. Every session holds descriptors (a pidfd,
// a few per process it follows, and thread files kept open from sample to sample),
// and so does every connection: the soft limit goes up to the hard one, then the
// connections are capped below it, and the thread files kept open are capped below
// what the connections leave, so that neither can starve the other.
#include <sys/resource.h>

#include <cstddef>
#include <optional>

namespace pyprofd::daemon {

// Raises RLIMIT_NOFILE's soft limit to the hard one, the first time (pyprofd has
// no select() to outgrow); returns the soft limit now, at most 2^22. Called before
// any thread starts.
std::size_t raise_descriptor_limit();
// The RLIMIT_NOFILE this process had before raise_descriptor_limit() changed it (or
// nullopt): a program pyprofd launches gets it back, so that it runs as it would
// have without pyprofd.
std::optional<rlimit> descriptor_limit_at_start();

struct DescriptorShares {
    std::size_t connections = 0;        // open at once
    std::size_t kept_thread_files = 0;  // for sampler::thread_file_budget()
    std::size_t process_files = 0;      // for sampler::process_descriptor_budget()
};

// Raises the descriptor limit as above, and shares it out: the connections get
// max_connections, or fewer where the limit leaves less room (logged as a warning
// that says how to raise it); of what is left once a reserve and the connections
// are taken, the thread files kept open get half, and what the sessions hold per
// process attached or launched the other half (a session past that is refused, so
// that sessions never take the connections' descriptors). Logged.
DescriptorShares fit_descriptor_limit(std::size_t max_connections);

// How the descriptors are used now, for /metrics: what an operator looks at when a
// session is refused for want of them.
struct DescriptorUse {
    std::optional<std::size_t> open;  // by this process, all kinds; unknown where /proc/self/fd could not be listed
    std::size_t limit = 0;  // the soft RLIMIT_NOFILE
    std::size_t process_files_held = 0, process_files_cap = 0;  // sampler::process_descriptor_budget()
    std::size_t thread_files_held = 0, thread_files_cap = 0;    // sampler::thread_file_budget()
};
// Lists /proc/self/fd: a few milliseconds for tens of thousands, so per scrape, not per sample.
DescriptorUse descriptor_use();

}  // namespace pyprofd::daemon
