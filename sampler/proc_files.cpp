#include "sampler/proc_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {
namespace {

std::unexpected<Error> open_error(pid_t pid, const std::string& path, int err) {
    if (err == ENOENT || err == ESRCH)
        return fail(ErrorKind::no_such_process, fmt::format("no process with PID {}", pid));
    if (err == EACCES || err == EPERM)
        return fail(ErrorKind::permission_denied,
                    fmt::format("permission denied reading {}: run as root or with "
                                "CAP_SYS_PTRACE",
                                path));
    return fail(ErrorKind::io, fmt::format("cannot read {}: {}", path, std::strerror(err)));
}

}  // namespace

Result<std::string> read_whole_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return fail(err == EACCES || err == EPERM ? ErrorKind::permission_denied : ErrorKind::io,
                    fmt::format("cannot open {}: {}", path, std::strerror(err)));
    }
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            return fail(ErrorKind::io, fmt::format("cannot read {}: {}", path, std::strerror(err)));
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

Result<std::string> read_proc_file(pid_t pid, std::string_view name) {
    std::string path = fmt::format("/proc/{}/{}", pid, name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return open_error(pid, path, errno);
    ::close(fd);
    auto text = read_whole_file(path);
    if (!text && text.error().kind == ErrorKind::io)
        // A process that exits between open and read leaves an empty or failing read.
        if (::access(fmt::format("/proc/{}", pid).c_str(), F_OK) != 0)
            return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid));
    return text;
}

Result<std::vector<std::string>> read_cmdline(pid_t pid) {
    auto text = read_proc_file(pid, "cmdline");
    if (!text) return std::unexpected(text.error());
    std::vector<std::string> args;
    std::string_view rest = *text;
    while (!rest.empty()) {
        auto nul = rest.find('\0');
        args.emplace_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
    }
    return args;
}

Result<std::vector<pid_t>> list_threads(pid_t pid) {
    std::string path = fmt::format("/proc/{}/task", pid);
    DIR* dir = ::opendir(path.c_str());
    if (!dir) return open_error(pid, path, errno);
    std::vector<pid_t> tids;
    while (dirent* entry = ::readdir(dir)) {
        pid_t tid = 0;
        std::string_view name = entry->d_name;
        auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), tid);
        if (ec == std::errc{} && ptr == name.data() + name.size()) tids.push_back(tid);
    }
    ::closedir(dir);
    return tids;
}

std::optional<std::uint64_t> read_status_number(pid_t pid, std::string_view field) {
    auto status = read_proc_file(pid, "status");
    if (!status) return std::nullopt;
    return status_number(*status, field);
}

std::optional<std::uint64_t> status_number(std::string_view status, std::string_view field) {
    std::string_view rest = status;
    for (;;) {
        if (rest.starts_with(field) && rest.substr(field.size()).starts_with(':')) break;
        auto newline = rest.find('\n');
        if (newline == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(newline + 1);
    }
    rest.remove_prefix(field.size() + 1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc{}) return std::nullopt;
    return value;
}

Result<std::string> read_exe_link(pid_t pid) {
    std::string path = fmt::format("/proc/{}/exe", pid);
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) return open_error(pid, path, errno);
    return std::string(buf, static_cast<std::size_t>(n));
}


std::string_view stat_after_command(std::string_view stat_line) {
    const void* close = stat_line.empty() ? nullptr : ::memrchr(stat_line.data(), ')', stat_line.size());
    if (!close) return {};
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(close) - stat_line.data());
    if (at + 2 > stat_line.size()) return {};
    return stat_line.substr(at + 2);
}

}  // namespace pyprofd::sampler
