#include "sampler/source_directories.hpp"

#include <unistd.h>

#include <array>
#include <fmt/format.h>

#include "sampler/process_root.hpp"
#include "sampler/regular_file.hpp"

namespace pyprofd::sampler {
namespace {

// A Python's file is a few levels below its prefix (/usr/bin/python3.11, or
// .../lib/x86_64-linux-gnu/libpython3.11.so); past this many, a path its owner made
// deep on purpose costs no more.
constexpr int max_ancestors = 16;

// `path` without its last component: "/usr/bin/python3" → "/usr/bin", "/usr" → "/".
std::string_view parent_of(std::string_view path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string_view::npos) return {};
    return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

}  // namespace

std::string read_working_directory(pid_t pid, std::string_view root) {
    std::string link = fmt::format("/proc/{}/cwd", pid);
    std::array<char, 4096> buf{};
    ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
    // A path as long as the buffer may have been cut short: not knowing is better.
    if (n <= 0 || static_cast<std::size_t>(n) >= buf.size()) return {};
    std::string_view path(buf.data(), static_cast<std::size_t>(n));
    // A directory removed since the process entered it: its files were still named
    // from there.
    constexpr std::string_view deleted_suffix = " (deleted)";
    if (path.ends_with(deleted_suffix)) path.remove_suffix(deleted_suffix.size());
    if (!path.starts_with('/')) return {};  // "net:[...]"-like, or unreachable: nothing the process can name
    while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
    if (root.empty() || root == "/") return std::string(path);
    // The root itself is "/" to the process; outside its root, a directory it
    // entered before its chroot has no name it could use.
    if (path == root) return "/";
    if (!(path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/')) return {};
    return path_inside_root(path, root);
}

std::string find_standard_library(const std::string& root_directory, std::string_view interpreter_path, int major,
                                  int minor) {
    if (!interpreter_path.starts_with('/')) return {};
    const std::string version_dir = fmt::format("python{}.{}", major, minor);
    std::string_view dir = parent_of(interpreter_path);
    for (int i = 0; i < max_ancestors && !dir.empty(); ++i) {
        for (std::string_view lib : {"lib", "lib64"}) {
            std::string library = fmt::format("{}/{}/{}", dir == "/" ? "" : dir, lib, version_dir);
            for (std::string_view os_file : {"os.py", "os.pyc"})
                if (is_regular_file_in_root(root_directory, fmt::format("{}/{}", library, os_file))) return library;
        }
        if (dir == "/") break;
        dir = parent_of(dir);
    }
    return {};
}

SourceDirectories find_source_directories(pid_t pid, std::string_view root, std::string_view interpreter_path,
                                          int major, int minor) {
    return {.working_directory = read_working_directory(pid, root),
            .standard_library =
                find_standard_library(fmt::format("/proc/{}/root", pid), interpreter_path, major, minor)};
}

}  // namespace pyprofd::sampler
