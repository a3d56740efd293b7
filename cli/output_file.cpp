#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <optional>
#include <thread>

#include "daemon/atomic_file.hpp"
#include "daemon/fd_output_buffer.hpp"

namespace pyprofd::cli {
namespace {

namespace fs = std::filesystem;

constexpr int max_symbolic_links = 40;  // as the kernel allows in one path

// What a name leads to once its symbolic links are followed.
struct Destination {
    std::string path;                   // the last name on the way: not a link (or a descriptor's)
    std::optional<int> own_descriptor;  // /proc/self/fd/N, where /dev/stdout and /dev/fd/N lead: ours
    bool other_process_descriptor = false;  // /proc/PID/fd/N of another process
};

// "/proc/PID" with our PID as the mounted /proc counts it (it may be another pid
// namespace's /proc).
std::string own_proc_directory() {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self", ec);
    return ec ? fmt::format("/proc/{}", ::getpid()) : "/proc/" + self.string();
}

// A descriptor's link, /proc/PID/fd/N or /proc/PID/task/TID/fd/N: whose, and N.
// Such a link is no path to follow: it leads to a pipe, a socket or a tty as well.
struct DescriptorLink {
    bool ours;
    int fd;
};
std::optional<DescriptorLink> descriptor_link(const fs::path& name) {
    auto number = name.filename().string();
    if (number.empty() || number.size() > 9 || !std::ranges::all_of(number, [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    std::error_code ec;
    auto dir = fs::canonical(name.parent_path().empty() ? fs::path(".") : name.parent_path(), ec).string();
    if (ec || !dir.starts_with("/proc/") || !dir.ends_with("/fd")) return std::nullopt;
    auto own = own_proc_directory();
    bool ours = dir == own + "/fd" || (dir.starts_with(own + "/task/") && dir.find('/', own.size() + 6) == dir.size() - 3);
    return DescriptorLink{ours, std::stoi(number)};
}

std::expected<Destination, std::string> follow_links(const std::string& path) {
    fs::path name = path;
    for (int links = 0;; ++links) {
        if (auto link = descriptor_link(name))
            return Destination{.path = name.string(),
                               .own_descriptor = link->ours ? std::optional(link->fd) : std::nullopt,
                               .other_process_descriptor = !link->ours};
        struct stat st {};
        if (::lstat(name.c_str(), &st) != 0) {
            if (errno == ENOENT) return Destination{.path = name.string()};  // a new file (a dangling link's target)
            return std::unexpected(std::strerror(errno));
        }
        if (!S_ISLNK(st.st_mode)) return Destination{.path = name.string()};
        if (links == max_symbolic_links) return std::unexpected(std::strerror(ELOOP));
        std::error_code ec;
        auto target = fs::read_symlink(name, ec);
        if (ec) return std::unexpected(ec.message());
        name = target.is_absolute() ? target : name.parent_path() / target;
    }
}

// A character device or FIFO: opened as it is and written, never truncated or
// replaced. A FIFO is opened without blocking, again and again until a reader
// has it open (ENXIO until then), and then made blocking for the writes.
std::expected<void, std::string> write_in_place(const Destination& to, const std::string& shown,
                                                const std::function<void(std::ostream&)>& write,
                                                const ReaderWait& wait) {
    auto fail = [&](const std::string& why) {
        return std::unexpected(fmt::format("cannot write {}: {}", shown, why));
    };
    // O_NOFOLLOW: a link put in its place since it was looked at is not followed
    // (another process's descriptor is such a link, and followed on purpose).
    int flags = O_WRONLY | O_NOCTTY | O_CLOEXEC | (to.other_process_descriptor ? 0 : O_NOFOLLOW);
    struct stat before {};
    bool fifo = ::stat(to.path.c_str(), &before) == 0 && S_ISFIFO(before.st_mode);
    int fd = ::open(to.path.c_str(), flags | (fifo ? O_NONBLOCK : 0));
    if (fd < 0 && fifo && errno == ENXIO) {
        if (wait.waiting) wait.waiting();
        while (fd < 0 && errno == ENXIO) {
            if (wait.give_up && wait.give_up()) return fail("no reader opened it; given up");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            fd = ::open(to.path.c_str(), flags | O_NONBLOCK);
        }
    }
    if (fd < 0) return fail(std::strerror(errno));
    if (fifo) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
        ::close(fd);
        return fail("it changed from a device or FIFO into something else as it was opened; nothing was written");
    }
    int error = daemon::stream_to_descriptor(fd, write);
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) return fail(std::strerror(error));
    return {};
}

}  // namespace

std::expected<void, std::string> write_to_descriptor(int fd, std::string_view name,
                                                     const std::function<void(std::ostream&)>& write) {
    if (::fcntl(fd, F_GETFD) < 0) return std::unexpected(fmt::format("cannot write to {}: it is not open", name));
    // What the streams hold goes first, so it stays in order.
    if (fd == STDOUT_FILENO) std::cout.flush();
    if (fd == STDERR_FILENO) std::cerr.flush();
    if (int error = daemon::stream_to_descriptor(fd, write); error != 0)
        return std::unexpected(fmt::format("cannot write to {}: {}", name, std::strerror(error)));
    return {};
}

namespace {

// How a name is written, decided by what it leads to.
enum class WriteKind { replace_file, in_place, own_descriptor };
struct WritePlan {
    Destination destination;
    WriteKind kind;
    std::string shown;  // for messages: the name, and where it leads if elsewhere
};

std::expected<WritePlan, std::string> plan_for(const std::string& path) {
    if (path.empty()) return std::unexpected("cannot write a file without a name");
    auto destination = follow_links(path);
    if (!destination) return std::unexpected(fmt::format("cannot write {}: {}", path, destination.error()));
    WritePlan plan{.destination = *destination,
                   .kind = WriteKind::replace_file,
                   .shown = destination->path == path ? path
                                                      : fmt::format("{} (which leads to {})", path, destination->path)};
    auto fail = [&](const std::string& why) {
        return std::unexpected(fmt::format("cannot write {}: {}", plan.shown, why));
    };
    if (destination->own_descriptor) {
        plan.kind = WriteKind::own_descriptor;
        plan.shown = fmt::format("{} (descriptor {})", path, *destination->own_descriptor);
        return plan;
    }
    struct stat st {};
    if (::stat(destination->path.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail(std::strerror(errno));
        st.st_mode = 0;  // nothing there: a new file
    }
    if (st.st_mode == 0 || S_ISREG(st.st_mode)) {
        if (destination->other_process_descriptor)
            return fail("it is another process's descriptor of a file; name the file itself");
        return plan;
    }
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
        plan.kind = WriteKind::in_place;
        return plan;
    }
    if (S_ISDIR(st.st_mode)) return fail("it is a directory; name a file in it");
    if (S_ISBLK(st.st_mode))
        return fail("it is a block device (a disk); pyprofd writes to files, character devices and pipes only");
    if (S_ISSOCK(st.st_mode)) return fail("it is a socket, which cannot be opened as a file");
    return fail("it is neither a file, a device nor a pipe");
}

// An error of the atomic writer, which names the file the link led to, also names the link.
std::expected<void, std::string> naming_link(std::expected<void, std::string> result, const std::string& path,
                                             const Destination& destination) {
    if (!result && destination.path != path)
        return std::unexpected(fmt::format("{} (where {} leads)", result.error(), path));
    return result;
}

}  // namespace

std::expected<void, std::string> check_output_file(const std::string& path) {
    auto plan = plan_for(path);
    if (!plan) return std::unexpected(plan.error());
    if (plan->kind == WriteKind::own_descriptor && ::fcntl(*plan->destination.own_descriptor, F_GETFD) < 0)
        return std::unexpected(fmt::format("cannot write to {}: it is not open", plan->shown));
    if (plan->kind == WriteKind::replace_file)
        return naming_link(daemon::check_file_atomically_writable(plan->destination.path), path, plan->destination);
    return {};
}

std::expected<void, std::string> write_output_file(const std::string& path,
                                                   const std::function<void(std::ostream&)>& write,
                                                   const ReaderWait& wait) {
    auto plan = plan_for(path);
    if (!plan) return std::unexpected(plan.error());
    switch (plan->kind) {
        case WriteKind::own_descriptor:
            return write_to_descriptor(*plan->destination.own_descriptor, plan->shown, write);
        case WriteKind::in_place: return write_in_place(plan->destination, plan->shown, write, wait);
        case WriteKind::replace_file:
            return naming_link(daemon::write_file_atomically(plan->destination.path, write), path, plan->destination);
    }
    return std::unexpected(fmt::format("cannot write {}", path));
}

}  // namespace pyprofd::cli
