#include "daemon/profile_checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "daemon/atomic_file.hpp"
#include "daemon/fd_output_buffer.hpp"

namespace pyprofd::daemon {

std::expected<void, std::string> ProfileCheckpoint::save(const std::string& path, const render::Profile& profile,
                                                         mode_t mode) {
    bool compact = appended_bytes_ >= std::max<std::uint64_t>(whole_bytes_, min_appended_before_compacting);
    if (!appendable_ || compact) return write_whole(path, profile, mode);
    auto appended = append(path, profile);
    if (!appended) appendable_ = false;  // the next checkpoint writes it whole
    return appended;
}

std::expected<void, std::string> ProfileCheckpoint::write_whole(const std::string& path, const render::Profile& profile,
                                                                mode_t mode) {
    render::FoldedWritten written;
    std::uint64_t bytes = 0;
    auto saved = write_file_atomically(
        path,
        [&](std::ostream& out) { bytes = render::write_folded_since(profile, written, out); },
        mode);
    if (!saved) {
        appendable_ = false;
        return saved;
    }
    written_ = std::move(written);
    whole_bytes_ = bytes;
    appended_bytes_ = 0;
    appendable_ = true;
    return {};
}

std::expected<void, std::string> ProfileCheckpoint::append(const std::string& path, const render::Profile& profile) {
    // Samples only grow, and every one written is counted: equal totals mean nothing new.
    if (profile.total_samples() == written_.samples) return {};

    // The file this checkpoint wrote whole before: a regular file, not a link
    // planted in its place.
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return std::unexpected(fmt::format("cannot append to {}: {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return std::unexpected(fmt::format("cannot append to {}: not a regular file", path));
    }
    // Recorded as written only once it is on disk; a failed write leaves a torn
    // line, which save() then replaces by writing the file whole.
    auto written = written_;
    FdOutputBuffer buffer(fd);
    std::ostream out(&buffer);
    auto bytes = render::write_folded_since(profile, written, out);
    bool flushed = buffer.flush();
    // On disk before the record that counts these samples is written.
    int err = !flushed ? buffer.error() : ::fdatasync(fd) != 0 ? errno : 0;
    ::close(fd);
    if (err != 0) return std::unexpected(fmt::format("cannot append to {}: {}", path, std::strerror(err)));
    written_ = std::move(written);
    appended_bytes_ += bytes;
    return {};
}

}  // namespace pyprofd::daemon
