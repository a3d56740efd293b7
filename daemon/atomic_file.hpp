#pragma once
// Writing a file so that readers (and a restart after a crash) see either the old
// file or the whole new one, never a half-written one: a temporary file beside it,
// fsync, rename, and fsync of the directory so the rename itself survives a crash.
//
// It replaces only a regular file (or creates a new one): the name given must not
// be a symbolic link, a device, a FIFO or a directory, since a rename would put a
// plain file in its place. Nor does it create or replace files in /dev, where a
// regular file is a broken device node (/dev/shm, a file system of its own, is
// fine). Everything after the directory is opened happens relative to it, so a
// directory swapped meanwhile cannot redirect the write.
#include <expected>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <ostream>
#include <string>

namespace pyprofd::daemon {

// write() streams the contents; the error says which file and why (e.g. ENOSPC).
// A replaced file keeps its permission bits and, where pyprofd may set it, its owner;
// with `mode`, the file has exactly that mode, new or replaced (the daemon's state:
// 0600, whatever the umask).
std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::function<void(std::ostream&)>& write,
                                                       std::optional<mode_t> mode = std::nullopt);

// What write_file_atomically() can tell before writing (its directory, what is at
// the name), without writing: the same error, or nothing.
std::expected<void, std::string> check_file_atomically_writable(const std::string& path);

// True for /dev and the directories below it, except /dev/shm: `directory` is a
// canonical path (no symbolic links, no "..").
bool is_device_directory(const std::string& directory);

}  // namespace pyprofd::daemon
