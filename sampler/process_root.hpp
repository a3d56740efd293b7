#pragma once
// Paths as the target sees them. A process in a chroot (or a container's root) names
// its files from its own root, while /proc/PID/exe and /proc/PID/maps name them from
// ours: /var/cache/pyprofd/sid-root/usr/bin/python3.14 for the /usr/bin/python3.14 it
// runs. pyprofd reports the process's own paths, and opens them inside its root
// (/proc/PID/root/PATH), the way the process would.
#include <sys/types.h>

#include <string>
#include <string_view>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

// The target's root directory as we see it ("/" for a process not in a chroot).
Result<std::string> read_process_root(pid_t pid);

// `path` (as we see it) as the process whose root is `root` sees it: the root's part
// taken off. A path outside that root (a file the process reached before its chroot,
// or from another mount namespace) is left as it is.
std::string path_inside_root(std::string_view path, std::string_view root);

}  // namespace pyprofd::sampler
