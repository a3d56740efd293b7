#pragma once
// Opening, as root, a file that someone else controls, to read it. Opening is not
// harmless: a FIFO blocks the opener until a writer comes, a device node's driver
// acts on open (a watchdog starts its countdown), and a path's symlinks go where
// their owner chose. So a file is first opened with O_PATH, which opens nothing (no
// driver is called, no FIFO waited on), checked to be a regular file, and the very
// one expected where its inode is known, and only then opened for reading, through
// /proc/self/fd, which reaches that same inode whatever the path has become since.
#include <cstdint>
#include <optional>
#include <string>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

// Whether the absolute path names a regular file, as a process whose root directory is
// `root` sees it (resolved as open_in_root resolves it), found without opening it to
// read: an O_PATH descriptor and fstat only, so no FIFO is waited on, no driver acts,
// nothing of the file is read. False for anything else, and where it cannot be told.
bool is_regular_file_in_root(const std::string& root, const std::string& path);

// Whether the absolute path names a regular file as a process whose root directory is
// `root` sees it (resolved as open_in_root resolves it), told without opening it to
// read: an O_PATH descriptor and fstat only, so no FIFO is waited on, no driver acts,
// nothing of the file is read. False for anything else, and where it cannot be told.
bool is_regular_file_in_root(const std::string& root, const std::string& path);

class RegularFile {
public:
    // Opens path as open(2) resolves it: symlinks (and /proc's magic links, such as
    // /proc/PID/map_files/...) followed. Where expected_inode is given, the file
    // must be that inode.
    static Result<RegularFile> open(const std::string& path, std::optional<std::uint64_t> expected_inode = {});

    // Opens the absolute path as a process whose root directory is `root` (say
    // /proc/PID/root) sees it: every symlink on the way, absolute ones and ".." too,
    // resolved inside that root, never outside (openat2's RESOLVE_IN_ROOT, Linux 5.6+).
    // Where the kernel has no openat2, the path is opened as open(2) resolves
    // root + path: its links may then lead outside the root, to where the same
    // checks refuse all but a regular file (and, where given, the expected inode).
    static Result<RegularFile> open_in_root(const std::string& root, const std::string& path,
                                            std::optional<std::uint64_t> expected_inode = {});

    RegularFile(RegularFile&& other) noexcept;
    RegularFile& operator=(RegularFile&& other) noexcept;
    RegularFile(const RegularFile&) = delete;
    RegularFile& operator=(const RegularFile&) = delete;
    ~RegularFile();

    int fd() const { return fd_; }
    // The size when it was opened; its owner may change it since.
    std::uint64_t size() const { return size_; }
    const std::string& name() const { return name_; }

private:
    RegularFile(int fd, std::uint64_t size, std::string name) : fd_(fd), size_(size), name_(std::move(name)) {}
    // Takes an O_PATH descriptor (and closes it): checks it, opens it for reading.
    static Result<RegularFile> from_path_descriptor(int path_fd, const std::string& name,
                                                    std::optional<std::uint64_t> expected_inode);

    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::string name_;
};

}  // namespace pyprofd::sampler
