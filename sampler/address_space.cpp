#include "sampler/address_space.hpp"

#include <cerrno>
#include <cstring>

namespace pyprofd::sampler {

ssize_t ProcessAddressSpace::read(std::span<const iovec> local, std::span<const iovec> remote) const {
    return ::process_vm_readv(pid_, local.data(), local.size(), remote.data(), remote.size(), 0);
}

ssize_t BufferAddressSpace::read(std::span<const iovec> local, std::span<const iovec> remote) const {
    if (local.size() != remote.size()) {
        errno = EINVAL;
        return -1;
    }
    std::size_t done = 0;
    for (std::size_t i = 0; i < remote.size(); ++i) {
        const auto address = reinterpret_cast<std::uintptr_t>(remote[i].iov_base);
        const std::size_t length = remote[i].iov_len;
        if (local[i].iov_len != length) {
            errno = EINVAL;
            return -1;
        }
        // Each comparison is made so that nothing can wrap around.
        const bool inside = address >= base_ && address - base_ <= bytes_.size() &&
                            length <= bytes_.size() - (address - base_);
        if (!inside) {
            if (i > 0) break;
            errno = EFAULT;  // the kernel's answer for an address with nothing mapped
            return -1;
        }
        if (length > 0) std::memcpy(local[i].iov_base, bytes_.data() + (address - base_), length);
        done += length;
    }
    return static_cast<ssize_t>(done);
}

}  // namespace pyprofd::sampler
