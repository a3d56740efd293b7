#include "sampler/file_bytes.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pyprofd::sampler {

bool FileBytes::read(std::uint64_t offset, std::span<std::byte> out) const {
    if (offset > size_ || size_ - offset < out.size()) return false;
    if (fd_ < 0) {
        if (!out.empty()) std::memcpy(out.data(), memory_.data() + offset, out.size());
        return true;
    }
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace pyprofd::sampler
