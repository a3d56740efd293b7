#pragma once
// Writing a file so that readers (and a restart after a crash) see either the old
// file or the whole new one, never a half-written one: a temporary file beside it,
// fsync, rename, and fsync of the directory so the rename itself survives a crash.
#include <expected>
#include <functional>
#include <ostream>
#include <string>

namespace pyprofd::daemon {

// write() streams the contents; the error says which file and why (e.g. ENOSPC).
std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::function<void(std::ostream&)>& write);

}  // namespace pyprofd::daemon
