#include "sampler/regular_file.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <expected>
#include <fmt/format.h>
#include <utility>

namespace pyprofd::sampler {
namespace {

std::string_view kind_of(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFIFO: return "a FIFO";
        case S_IFCHR: return "a character device";
        case S_IFBLK: return "a block device";
        case S_IFSOCK: return "a socket";
        case S_IFDIR: return "a directory";
        case S_IFLNK: return "a symbolic link";
        default: return "not a file";
    }
}

Error open_error(int err, std::string_view name) {
    return Error{err == EACCES || err == EPERM ? ErrorKind::permission_denied : ErrorKind::io,
                 fmt::format("cannot open {}: {}", name, std::strerror(err))};
}

// glibc 2.36 has no wrapper for openat2.
int openat2_path(int dirfd, const std::string& path, std::uint64_t resolve) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

// An O_PATH descriptor of the absolute path as a process whose root is `root_fd` sees
// it, or the errno of the failure. `name` is root + path, for a kernel without openat2.
std::expected<int, int> open_path_in_root(int root_fd, const std::string& path, const std::string& name) {
    // RESOLVE_IN_ROOT alone also refuses magic links today; the man page asks for
    // RESOLVE_NO_MAGICLINKS to be said, in case that changes.
    // EAGAIN: a rename elsewhere raced with a ".." on the way (from a symlink); the
    // kernel asks for a retry rather than risk an escape.
    int path_fd = -1;
    int err = EAGAIN;
    for (int attempt = 0; attempt < 8 && path_fd < 0 && err == EAGAIN; ++attempt) {
        path_fd = openat2_path(root_fd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        err = errno;
    }
    // ENOSYS: a kernel before 5.6. EPERM: a seccomp filter that answers so for a
    // system call it does not know (as older container runtimes did); an O_PATH open
    // has no other reason to give it. Then root + path as open(2) resolves it: its
    // links may lead outside the root, where the callers' checks still hold.
    if (path_fd < 0 && (err == ENOSYS || err == EPERM)) {
        path_fd = ::open(name.c_str(), O_PATH | O_CLOEXEC);
        err = errno;
    }
    if (path_fd < 0) return std::unexpected(err);
    return path_fd;
}

}  // namespace

Result<RegularFile> RegularFile::open(const std::string& path, std::optional<std::uint64_t> expected_inode) {
    int path_fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    if (path_fd < 0) return std::unexpected(open_error(errno, path));
    return from_path_descriptor(path_fd, path, expected_inode);
}

Result<RegularFile> RegularFile::open_in_root(const std::string& root, const std::string& path,
                                              std::optional<std::uint64_t> expected_inode) {
    const std::string name = root + path;
    int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return std::unexpected(open_error(errno, root));
    auto path_fd = open_path_in_root(root_fd, path, name);
    ::close(root_fd);
    if (!path_fd) return std::unexpected(open_error(path_fd.error(), name));
    return from_path_descriptor(*path_fd, name, expected_inode);
}

bool is_regular_file_in_root(const std::string& root, const std::string& path) {
    int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return false;
    auto path_fd = open_path_in_root(root_fd, path, root + path);
    ::close(root_fd);
    if (!path_fd) return false;
    struct stat st {};
    bool regular = ::fstat(*path_fd, &st) == 0 && S_ISREG(st.st_mode);
    ::close(*path_fd);
    return regular;
}

Result<RegularFile> RegularFile::from_path_descriptor(int path_fd, const std::string& name,
                                                      std::optional<std::uint64_t> expected_inode) {
    struct stat st {};
    if (::fstat(path_fd, &st) != 0) {
        int err = errno;
        ::close(path_fd);
        return fail(ErrorKind::io, fmt::format("cannot read {}: {}", name, std::strerror(err)));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(path_fd);
        return fail(ErrorKind::io, fmt::format("{} is {}, not a regular file: pyprofd opens no other kind", name,
                                               kind_of(st.st_mode)));
    }
    if (expected_inode && st.st_ino != *expected_inode) {
        ::close(path_fd);
        return fail(ErrorKind::io,
                    fmt::format("{} is not the file the process maps (inode {}, not {}): it was replaced since",
                                name, st.st_ino, *expected_inode));
    }
    // The O_PATH descriptor's magic link in /proc/self/fd is the inode just checked.
    int fd = ::open(fmt::format("/proc/self/fd/{}", path_fd).c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int err = errno;
    ::close(path_fd);
    if (fd < 0) return std::unexpected(open_error(err, name));
    return RegularFile(fd, static_cast<std::uint64_t>(st.st_size), name);
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), name_(std::move(other.name_)) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        size_ = other.size_;
        name_ = std::move(other.name_);
    }
    return *this;
}

RegularFile::~RegularFile() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace pyprofd::sampler
