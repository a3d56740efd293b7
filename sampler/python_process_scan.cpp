#include "sampler/python_process_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fmt/format.h>

#include "sampler/proc_files.hpp"
#include "sampler/proc_maps.hpp"
#include "sampler/process_identity.hpp"
#include "sampler/process_root.hpp"
#include "sampler/python_binary.hpp"

namespace pyprofd::sampler {
namespace {

std::string_view basename(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// A process's /proc directory, open: every read through it is of that process, and
// fails once it has exited, even if its PID names another by then.
class ProcDirectory {
public:
    explicit ProcDirectory(pid_t pid)
        : fd_(::open(fmt::format("/proc/{}", pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
    ProcDirectory(const ProcDirectory&) = delete;
    ProcDirectory& operator=(const ProcDirectory&) = delete;
    ~ProcDirectory() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    // The start of a file: at most limit + 1 bytes, so that a caller can tell a file
    // of limit bytes from a longer one without reading all of it.
    std::optional<std::string> read(const char* name, std::size_t limit) const {
        int fd = ::openat(fd_, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return std::nullopt;
        // Grown as it is read: most files are a few kilobytes, whatever the limit.
        std::string out;
        char chunk[16384];
        while (out.size() <= limit) {
            ssize_t n = ::read(fd, chunk, std::min(sizeof chunk, limit + 1 - out.size()));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                ::close(fd);
                return std::nullopt;
            }
            if (n == 0) break;
            out.append(chunk, static_cast<std::size_t>(n));
        }
        ::close(fd);
        return out;
    }
    std::optional<std::string> link(const char* name) const {
        char buf[4096];
        ssize_t n = ::readlinkat(fd_, name, buf, sizeof buf);
        if (n < 0 || static_cast<std::size_t>(n) >= sizeof buf) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }
    // Whether the process has exited: its files are gone from under the directory.
    bool gone() const {
        struct stat st {};
        return ::fstatat(fd_, "stat", &st, 0) != 0;
    }

private:
    int fd_;
};

std::optional<std::string> link_target(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0 || static_cast<std::size_t>(n) >= sizeof buf) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
}

// When the system booted, as /proc/stat's btime says: start times count from it.
std::chrono::system_clock::time_point boot_time() {
    auto stat = read_whole_file("/proc/stat");
    if (stat) {
        auto at = stat->find("\nbtime ");
        if (at != std::string::npos) {
            std::int64_t seconds = 0;
            const char* from = stat->data() + at + 7;
            if (std::from_chars(from, stat->data() + stat->size(), seconds).ec == std::errc{})
                return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
        }
    }
    return {};
}

// The first mapping of each distinct libpython in a maps text, in the order met.
std::vector<MemoryMapping> libpython_mappings(std::string_view maps, std::size_t at_most) {
    std::vector<MemoryMapping> found;
    for (auto at = maps.find("libpython"); at != std::string_view::npos && found.size() < at_most;
         at = maps.find("libpython", at + 1)) {
        auto start = maps.rfind('\n', at);
        start = start == std::string_view::npos ? 0 : start + 1;
        auto end = maps.find('\n', at);
        if (end == std::string_view::npos) break;  // a line the read cut
        auto parsed = parse_proc_maps(maps.substr(start, end - start));
        at = end;
        if (parsed.size() != 1 || !is_libpython(parsed.front().path)) continue;
        if (std::ranges::any_of(found, [&](const MemoryMapping& m) { return m.path == parsed.front().path; })) continue;
        found.push_back(std::move(parsed.front()));
    }
    return found;
}

// The arguments of a cmdline text of at most limit + 1 bytes: cut at limit, where the
// cut argument ends with "…".
std::vector<std::string> command_line_of(std::string text, std::size_t limit) {
    bool cut = text.size() > limit;
    if (cut) text.resize(limit);
    std::vector<std::string> args;
    std::string_view rest = text;
    while (!rest.empty()) {
        auto nul = rest.find('\0');
        args.emplace_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
    }
    if (cut) {
        if (args.empty()) args.emplace_back();
        args.back() += "\u2026";
    }
    return args;
}

}  // namespace

struct PythonProcessScan::Context {
    std::optional<std::string> pid_namespace = link_target("/proc/self/ns/pid");
    // The host's mount namespace: init's (PID 1 of our PID namespace). Not ours, which
    // under systemd is the service's own (PrivateMounts, PrivateTmp, ProtectSystem):
    // every process would seem to be in a container. Ours where init's cannot be read.
    std::optional<std::string> mount_namespace = [] {
        auto init = link_target("/proc/1/ns/mnt");
        return init ? init : link_target("/proc/self/ns/mnt");
    }();
    std::chrono::system_clock::time_point booted = boot_time();
    long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    std::size_t files_left = 0;
};

PythonProcessScan::FileFacts PythonProcessScan::facts_of(const RegularFile& file, const std::string& path,
                                                         Context& context) {
    struct stat st {};
    if (::fstat(file.fd(), &st) != 0) return Result<InterpreterFileFacts>(fail(ErrorKind::io, "cannot stat " + path));
    FileKey key{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                static_cast<std::uint64_t>(st.st_size),
                std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                std::int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec};
    {
        std::lock_guard lock(mutex_);
        if (auto known = files_.find(key); known != files_.end()) return known->second;
    }
    if (context.files_left == 0) return std::nullopt;
    --context.files_left;
    // Read without the lock: two scans may read one file at once, and both remember
    // the same answer.
    auto facts = read_interpreter_file_facts(file, path);
    std::lock_guard lock(mutex_);
    ++files_read_;
    if (files_.size() >= max_files_remembered) files_.clear();
    files_.insert_or_assign(key, facts);
    return facts;
}

std::expected<PythonProcessListing, PythonProcessScan::Verdict> PythonProcessScan::inspect(
    pid_t pid, Context& context, std::optional<uid_t> only_uid) {
    ProcDirectory proc(pid);
    if (!proc.is_open()) return std::unexpected(Verdict::gone);
    auto gone_or = [&](Verdict otherwise) { return std::unexpected(proc.gone() ? Verdict::gone : otherwise); };
    // No executable at all (a kernel thread, a zombie), or gone: not Python, quietly.
    auto exe = proc.link("exe");
    if (!exe) return std::unexpected(Verdict::not_python);
    if (only_uid) {
        // A process's /proc directory belongs to its effective uid: one stat, where
        // status would be a file to read. (A caller who is not an admin may profile only
        // processes whose uids are all its own; allows_process decides the rest.)
        struct stat st {};
        if (::fstat(proc.fd(), &st) != 0 || st.st_uid != *only_uid) return std::unexpected(Verdict::not_python);
    }

    constexpr std::string_view deleted = " (deleted)";
    if (exe->ends_with(deleted)) exe->resize(exe->size() - deleted.size());
    bool named_python = basename(*exe).starts_with("python");
    auto maps = proc.read("maps", max_maps_bytes);
    if (!maps) return gone_or(named_python ? Verdict::unreadable : Verdict::not_python);
    bool maps_cut = maps->size() > max_maps_bytes;
    auto libpythons = libpython_mappings(*maps, max_libpython_candidates);
    if (libpythons.empty() && !named_python) return std::unexpected(Verdict::not_python);

    // From here on it looks like Python: what cannot be read is said so.
    auto status = proc.read("status", max_status_bytes);
    auto stat = proc.read("stat", max_status_bytes);
    auto root = proc.link("root");
    if (!status || !stat || !root) return gone_or(Verdict::unreadable);
    auto uid = status_number(*status, "Uid");  // real, effective, saved, filesystem: the first
    auto threads = status_number(*status, "Threads");
    auto started = start_time_in(*stat);
    if (!uid || !threads || !started) return gone_or(Verdict::unreadable);
    PythonProcessListing listing;
    listing.pid = pid;
    listing.uid = static_cast<uid_t>(*uid);
    listing.threads = static_cast<unsigned>(*threads);
    listing.executable = path_inside_root(*exe, *root);

    // The interpreter's file: the first candidate that defines it.
    bool defined = false, unread = false, unreadable = false;
    auto consider = [&](const Result<RegularFile>& opened, const std::string& path) {
        if (!opened) {
            unreadable = true;
            return;
        }
        auto facts = facts_of(*opened, path, context);
        if (!facts) {
            unread = true;
        } else if (!*facts) {
            unreadable = true;
        } else if ((*facts)->defines_interpreter) {
            defined = true;
            listing.version = (*facts)->version;
        }
    };
    for (auto& mapping : libpythons) {
        mapping.path = path_inside_root(mapping.path, *root);
        auto opened = open_mapped_file(pid, mapping);
        consider(opened ? Result<RegularFile>(std::move(opened->first)) : std::unexpected(opened.error()), mapping.path);
        if (defined) break;
    }
    // The executable through the directory held: this process's, whatever its PID does.
    if (!defined && named_python) consider(RegularFile::open(fmt::format("/proc/self/fd/{}/exe", proc.fd())), listing.executable);
    // A libpython past the maps read is not known: the process is not taken for one
    // that is not Python, but as one that could not be read.
    if (!defined && !unread) return gone_or(unreadable || maps_cut ? Verdict::unreadable : Verdict::not_python);

    auto command_line = proc.read("cmdline", max_command_line_bytes);
    if (!command_line) return gone_or(Verdict::unreadable);
    listing.command_line = command_line_of(std::move(*command_line), max_command_line_bytes);
    auto ticks = static_cast<std::int64_t>(*started);
    listing.started = context.booted + std::chrono::milliseconds(ticks * 1000 / std::max(context.ticks_per_second, 1L));
    auto pid_namespace = proc.link("ns/pid");
    auto mount_namespace = proc.link("ns/mnt");
    listing.other_pid_namespace = pid_namespace && context.pid_namespace && *pid_namespace != *context.pid_namespace;
    listing.other_mount_namespace =
        mount_namespace && context.mount_namespace && *mount_namespace != *context.mount_namespace;
    return listing;
}

std::expected<PythonProcessListing, PythonProcessScan::Verdict> PythonProcessScan::inspect(pid_t pid) {
    Context context;
    context.files_left = files_read_per_scan_;
    return inspect(pid, context, std::nullopt);
}

PythonProcessScanResult PythonProcessScan::scan(std::optional<uid_t> only_uid) {
    std::vector<pid_t> pids;
    if (DIR* proc = ::opendir("/proc")) {
        while (dirent* entry = ::readdir(proc)) {
            std::string_view name = entry->d_name;
            pid_t pid = 0;
            auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
            if (ec == std::errc{} && end == name.data() + name.size() && pid > 0) pids.push_back(pid);
        }
        ::closedir(proc);
    }
    std::ranges::sort(pids);
    Context context;
    context.files_left = files_read_per_scan_;
    PythonProcessScanResult result;
    for (pid_t pid : pids) {
        auto found = inspect(pid, context, only_uid);
        if (found)
            result.processes.push_back(std::move(*found));
        else if (found.error() == Verdict::unreadable)
            result.unreadable.push_back(pid);
    }
    return result;
}

std::size_t PythonProcessScan::files_read() const {
    std::lock_guard lock(mutex_);
    return files_read_;
}

}  // namespace pyprofd::sampler
