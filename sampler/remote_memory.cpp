#include "sampler/remote_memory.hpp"

#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {

Result<void> RemoteMemory::read(RemoteAddress address, std::span<std::byte> out) const {
    if (out.empty()) return {};
    if (address == 0) return fail(ErrorKind::read_failed, "read of a null pointer");
    iovec local{out.data(), out.size()};
    iovec remote{reinterpret_cast<void*>(address), out.size()};
    ++syscalls_;
    ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(out.size())) return {};
    if (n >= 0) {
        return fail(ErrorKind::read_failed,
                    fmt::format("short read at {:#x}: {} of {} bytes", address, n, out.size()));
    }
    int err = errno;
    switch (err) {
        case ESRCH:
            return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid_));
        case EPERM:
            return fail(ErrorKind::permission_denied,
                        fmt::format("not allowed to read the memory of process {}: run as root or "
                                    "with CAP_SYS_PTRACE",
                                    pid_));
        default:
            return fail(ErrorKind::read_failed,
                        fmt::format("read of {} bytes at {:#x} failed: {}", out.size(), address,
                                    std::strerror(err)));
    }
}

}  // namespace pyprofd::sampler
