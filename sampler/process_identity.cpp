#include "sampler/process_identity.hpp"

#include <elf.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <string>

#include "sampler/byte_reads.hpp"
#include "sampler/proc_files.hpp"
#include "sampler/remote_memory.hpp"
#include "sampler/thread_activity.hpp"

namespace pyprofd::sampler {

std::optional<std::uint64_t> start_time_in(std::string_view stat) {
    auto rest = stat_after_command(stat);  // field 3 on
    if (rest.empty()) return std::nullopt;
    for (int field = 3; field < 22; ++field) {
        auto space = rest.find(' ');
        if (space == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(space + 1);
    }
    std::uint64_t start = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), start);
    if (ec != std::errc{}) return std::nullopt;
    return start;
}

std::optional<std::uint64_t> process_start_time(pid_t pid) {
    auto stat = read_proc_file(pid, "stat");
    if (!stat) return std::nullopt;
    return start_time_in(*stat);
}

Result<ProcessIdentity> ProcessIdentity::pin(pid_t pid) {
    // The pidfd first: from here on it names this process whatever the PID does.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0 && errno == ESRCH) return fail(ErrorKind::no_such_process, fmt::format("no process with PID {}", pid));
    auto start = process_start_time(pid);
    if (!start) {
        if (pidfd >= 0) ::close(pidfd);
        return fail(ErrorKind::no_such_process, fmt::format("no process with PID {}", pid));
    }
    ProcessIdentity identity(pid, pidfd, *start, executable_of(pid), image_of(pid));
    if (identity.exited()) return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid));
    return identity;
}

ProcessIdentity::ProcessIdentity(ProcessIdentity&& other) noexcept
    : pid_(other.pid_),
      pidfd_(other.pidfd_),
      start_time_(other.start_time_),
      executable_(other.executable_),
      image_(other.image_) {
    other.pidfd_ = -1;
}

ProcessIdentity& ProcessIdentity::operator=(ProcessIdentity&& other) noexcept {
    if (this != &other) {
        if (pidfd_ >= 0) ::close(pidfd_);
        pid_ = other.pid_;
        pidfd_ = other.pidfd_;
        start_time_ = other.start_time_;
        executable_ = other.executable_;
        image_ = other.image_;
        other.pidfd_ = -1;
    }
    return *this;
}

ProcessIdentity::~ProcessIdentity() {
    if (pidfd_ >= 0) ::close(pidfd_);
}

std::optional<ProcessIdentity::FileId> ProcessIdentity::executable_of(pid_t pid) {
    struct stat st {};
    if (::stat(fmt::format("/proc/{}/exe", pid).c_str(), &st) != 0) return std::nullopt;
    return FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

std::optional<ProcessIdentity::ImageId> ProcessIdentity::image_of(pid_t pid) {
    auto auxv = read_proc_file(pid, "auxv");
    if (!auxv) return std::nullopt;
    ImageId id;
    for (std::size_t at = 0; at + sizeof(Elf64_auxv_t) <= auxv->size(); at += sizeof(Elf64_auxv_t)) {
        auto entry = load<Elf64_auxv_t>(reinterpret_cast<const std::byte*>(auxv->data()) + at);
        if (entry.a_type == AT_RANDOM) id.at_random = entry.a_un.a_val;
    }
    if (id.at_random == 0) return std::nullopt;
    if (!RemoteMemory(pid).read(id.at_random, std::as_writable_bytes(std::span(id.random_bytes)))) return std::nullopt;
    return id;
}

bool ProcessIdentity::program_replaced() const {
    if (exited()) return false;
    if (executable_) {
        auto now = executable_of(pid_);
        if (now && *now != *executable_) return true;
    }
    if (image_) {
        auto now = image_of(pid_);
        if (now && *now != *image_) return true;
    }
    return false;
}

bool ProcessIdentity::exited() const {
    if (pidfd_ >= 0) {
        pollfd p{pidfd_, POLLIN, 0};
        return ::poll(&p, 1, 0) > 0;  // readable: the process has exited (reaped or not)
    }
    auto stat = read_proc_file(pid_, "stat");
    if (!stat) return true;
    char state = parse_stat_state(*stat);
    if (state == 'Z' || state == 'X') return true;  // exited, not reaped yet
    auto start = start_time_in(*stat);
    return !start || *start != start_time_;
}

}  // namespace pyprofd::sampler
