#include "sampler/process_root.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {

Result<std::string> read_process_root(pid_t pid) {
    std::string path = fmt::format("/proc/{}/root", pid);
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
        int err = errno;
        if (err == ENOENT || err == ESRCH)
            return fail(ErrorKind::no_such_process, fmt::format("no process with PID {}", pid));
        if (err == EACCES || err == EPERM)
            return fail(ErrorKind::permission_denied,
                        fmt::format("permission denied reading {}: run as root or with CAP_SYS_PTRACE", path));
        return fail(ErrorKind::io, fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

std::string path_inside_root(std::string_view path, std::string_view root) {
    while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
    if (root.empty() || root == "/" || !root.starts_with('/')) return std::string(path);
    if (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/')
        return std::string(path.substr(root.size()));
    return std::string(path);
}

}  // namespace pyprofd::sampler
