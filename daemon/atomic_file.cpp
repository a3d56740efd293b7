#include "daemon/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "daemon/fd_output_buffer.hpp"

namespace pyprofd::daemon {

std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::function<void(std::ostream&)>& write) {
    auto temp = fmt::format("{}.tmp-{}-{}", path, ::getpid(), ::gettid());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    std::string error;
    {
        FdOutputBuffer buffer(fd);
        std::ostream out(&buffer);
        write(out);
        out.flush();
        if (!buffer.flush() || !out) error = std::strerror(buffer.error() ? buffer.error() : EIO);
    }
    if (error.empty() && ::fsync(fd) != 0) error = std::strerror(errno);
    if (::close(fd) != 0 && error.empty()) error = std::strerror(errno);
    if (error.empty() && ::rename(temp.c_str(), path.c_str()) != 0) error = std::strerror(errno);
    if (!error.empty()) {
        ::unlink(temp.c_str());
        return std::unexpected(fmt::format("cannot write {}: {}", path, error));
    }
    auto dir = std::filesystem::path(path).parent_path();
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return {};
}

}  // namespace pyprofd::daemon
