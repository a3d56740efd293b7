#include "daemon/atomic_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>
#include <fmt/format.h>

#include "daemon/fd_output_buffer.hpp"

namespace pyprofd::daemon {
namespace {

namespace fs = std::filesystem;

// A descriptor closed when its owner goes; moved, not copied.
struct ClosedAtEnd {
    int fd;
    explicit ClosedAtEnd(int descriptor) : fd(descriptor) {}
    ClosedAtEnd(ClosedAtEnd&& other) noexcept : fd(std::exchange(other.fd, -1)) {}
    ClosedAtEnd& operator=(ClosedAtEnd&&) = delete;
    ~ClosedAtEnd() {
        if (fd >= 0) ::close(fd);
    }
};

std::string file_type_name(mode_t mode) {
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// The directory an open descriptor names, as the kernel sees it now.
std::string directory_path(int dir_fd, const fs::path& fallback) {
    std::error_code ec;
    auto path = fs::read_symlink(fmt::format("/proc/self/fd/{}", dir_fd), ec);
    if (!ec) return path.string();
    auto canonical = fs::canonical(fallback.empty() ? "." : fallback, ec);
    return ec ? fallback.string() : canonical.string();
}

std::string temp_name_for(const std::string& name) {
    std::uint64_t random = 0;
    if (::getrandom(&random, sizeof random, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof random))
        random = static_cast<std::uint64_t>(::gettid()) << 32 ^ static_cast<std::uint64_t>(::time(nullptr));
    // ".tmp-" marks it: the session store removes such leftovers of a crash at start.
    return fmt::format("{}.tmp-{}-{:016x}", name, ::getpid(), random);
}

}  // namespace

bool is_device_directory(const std::string& directory) {
    auto under = [&](std::string_view root) {
        return directory == root || (directory.starts_with(root) && directory[root.size()] == '/');
    };
    return under("/dev") && !under("/dev/shm");
}

namespace {

// The directory a file is to be written in, opened, and what is at the name now.
struct FileSlot {
    ClosedAtEnd dir_fd{-1};
    std::string name;
    bool replacing = false;  // a regular file is there
    struct stat old {};
};

// Everything that can be known before writing: the directory opens and takes a
// new file, and the name is free or a regular file outside /dev.
std::expected<FileSlot, std::string> slot_for(const std::string& path) {
    FileSlot slot;
    fs::path target(path);
    slot.name = target.filename().string();
    if (slot.name.empty() || slot.name == "." || slot.name == "..") return std::unexpected("that names a directory, not a file");
    auto dir = target.parent_path();
    slot.dir_fd.fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (slot.dir_fd.fd < 0) return std::unexpected(fmt::format("cannot open its directory: {}", std::strerror(errno)));
    slot.replacing = ::fstatat(slot.dir_fd.fd, slot.name.c_str(), &slot.old, AT_SYMLINK_NOFOLLOW) == 0;
    if (!slot.replacing && errno != ENOENT) return std::unexpected(std::strerror(errno));
    if (slot.replacing && !S_ISREG(slot.old.st_mode))
        return std::unexpected(
            fmt::format("it is {}, which pyprofd does not replace with a file", file_type_name(slot.old.st_mode)));
    if (auto where = directory_path(slot.dir_fd.fd, dir); is_device_directory(where))
        return std::unexpected(slot.replacing ? fmt::format("it is a regular file in {}, where device nodes belong (a "
                                                            "damaged device node?); pyprofd replaces no files there",
                                                            where)
                                              : fmt::format("there is no such device, and pyprofd creates no files in {}",
                                                            where));
    if (::faccessat(slot.dir_fd.fd, ".", W_OK, AT_EACCESS) != 0)
        return std::unexpected(fmt::format("its directory does not take new files: {}", std::strerror(errno)));
    return slot;
}

}  // namespace

std::expected<void, std::string> check_file_atomically_writable(const std::string& path) {
    auto slot = slot_for(path);
    if (!slot) return std::unexpected(fmt::format("cannot write {}: {}", path, slot.error()));
    return {};
}

std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::function<void(std::ostream&)>& write,
                                                       std::optional<mode_t> mode) {
    auto fail = [&](const std::string& why) {
        return std::unexpected(fmt::format("cannot write {}: {}", path, why));
    };
    auto slot = slot_for(path);
    if (!slot) return fail(slot.error());
    const auto& dir_fd = slot->dir_fd;
    const auto& name = slot->name;
    bool replacing = slot->replacing;
    const auto& old = slot->old;

    // The temporary file goes again on every way out but the rename, also when write() throws.
    struct TemporaryFile {
        int dir_fd;
        std::string name;
        ClosedAtEnd file{-1};
        bool created = false, renamed = false;
        ~TemporaryFile() {
            if (created && !renamed) ::unlinkat(dir_fd, name.c_str(), 0);
        }
    } temp{dir_fd.fd, {}};
    for (int attempt = 0; temp.file.fd < 0 && attempt < 10; ++attempt) {
        temp.name = temp_name_for(name);
        // O_EXCL|O_NOFOLLOW: never through a name someone else put there.
        temp.file.fd =
            ::openat(dir_fd.fd, temp.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode.value_or(0644));
        if (temp.file.fd < 0 && errno != EEXIST) break;
    }
    if (temp.file.fd < 0) return fail(std::strerror(errno));
    temp.created = true;
    if (mode) {
        if (::fchmod(temp.file.fd, *mode) != 0) return fail(std::strerror(errno));
    } else if (replacing) {
        // Best effort: only root may give a file to another owner, and the file is
        // whole without.
        if (::fchown(temp.file.fd, old.st_uid, old.st_gid) != 0) {
        }
        if (::fchmod(temp.file.fd, old.st_mode & 0777) != 0) {
        }
    }
    std::string error;
    if (int written = stream_to_descriptor(temp.file.fd, write); written != 0) error = std::strerror(written);
    if (error.empty() && ::fsync(temp.file.fd) != 0) error = std::strerror(errno);
    if (::close(std::exchange(temp.file.fd, -1)) != 0 && error.empty()) error = std::strerror(errno);
    if (!error.empty()) return fail(error);

    // The name may have changed while the file was written: only a regular file is
    // replaced, and a free name is taken only while it is still free.
    int moved = -1;
    for (int attempt = 0; moved != 0 && attempt < 3; ++attempt) {
        struct stat now {};
        bool occupied = ::fstatat(dir_fd.fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0;
        if (occupied && !S_ISREG(now.st_mode))
            return fail(fmt::format("it became {} while it was written, which pyprofd does not replace with a file",
                                    file_type_name(now.st_mode)));
        moved = occupied ? ::renameat(dir_fd.fd, temp.name.c_str(), dir_fd.fd, name.c_str())
                         : ::renameat2(dir_fd.fd, temp.name.c_str(), dir_fd.fd, name.c_str(), RENAME_NOREPLACE);
        if (moved != 0 && !occupied && errno == EINVAL)  // a file system without RENAME_NOREPLACE
            moved = ::renameat(dir_fd.fd, temp.name.c_str(), dir_fd.fd, name.c_str());
        if (moved != 0 && errno != EEXIST) break;  // EEXIST: something arrived just now; look again
    }
    if (moved != 0) return fail(std::strerror(errno));
    temp.renamed = true;
    ::fsync(dir_fd.fd);
    return {};
}

}  // namespace pyprofd::daemon
