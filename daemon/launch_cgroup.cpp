#include "daemon/launch_cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

namespace pyprofd::daemon {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            int value = 0;
            bool octal = true;
            for (std::size_t j = 1; j <= 3; ++j) {
                char c = field[i + j];
                if (c < '0' || c > '7') octal = false;
                value = value * 8 + (c - '0');
            }
            if (octal) {
                out += static_cast<char>(value);
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

struct Mount {
    std::string root;         // the part of the hierarchy mounted there
    std::string mount_point;
};

std::optional<Mount> cgroup2_mount() {
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mountinfo, line)) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream after(line.substr(dash + 3));
        std::string type;
        after >> type;
        if (type != "cgroup2") continue;
        std::istringstream before(line.substr(0, dash));
        std::string id, parent, device, root, mount_point;
        before >> id >> parent >> device >> root >> mount_point;
        return Mount{unescape(root), unescape(mount_point)};
    }
    return std::nullopt;
}

// pyprofd's cgroup in the v2 hierarchy ("0::/system.slice/pyprofd.service").
std::optional<std::string> own_cgroup() {
    std::ifstream cgroups("/proc/self/cgroup");
    std::string line;
    while (std::getline(cgroups, line))
        if (line.starts_with("0::")) return line.substr(3);
    return std::nullopt;
}

std::atomic<unsigned> next_number{0};

constexpr std::string_view name_prefix = "pyprofd-launch-";

// The PID of the pyprofd that made a cgroup named pyprofd-launch-PID-N; 0 if the name is not such.
pid_t maker_of(std::string_view name) {
    if (!name.starts_with(name_prefix)) return 0;
    name.remove_prefix(name_prefix.size());
    auto dash = name.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return 0;
    pid_t pid = 0;
    for (char c : name.substr(0, dash)) {
        if (c < '0' || c > '9' || pid > 100'000'000) return 0;
        pid = pid * 10 + (c - '0');
    }
    for (char c : name.substr(dash + 1))
        if (c < '0' || c > '9') return 0;
    return pid;
}

// Removes the empty cgroup `name` below the directory parent_fd, waiting up to
// `ms` for the kernel to see that its last process has gone; whether it is removed.
bool remove_when_empty(int parent_fd, const char* name, int ms) {
    for (int waited = 0;; ++waited) {
        if (::unlinkat(parent_fd, name, AT_REMOVEDIR) == 0) return true;
        if (errno != EBUSY || waited >= ms) return false;
        ::usleep(1000);
    }
}

// Removes the cgroups in dir that a pyprofd which no longer runs made: their
// programs' sessions ended with it, so whatever still runs in them is killed first.
// Another pyprofd's, still running (tests run several in one cgroup), are its own.
std::vector<std::string> sweep_leftovers(const std::string& dir) {
    std::vector<std::string> swept;
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return swept;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        auto name = entry.path().filename().string();
        pid_t maker = maker_of(name);
        if (maker <= 0 || !entry.is_directory(error)) continue;
        if (::kill(maker, 0) == 0 || errno != ESRCH) continue;
        if (int kill = ::openat(dir_fd, (name + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC); kill >= 0) {
            [[maybe_unused]] auto n = ::write(kill, "1", 1);
            ::close(kill);
        }
        if (remove_when_empty(dir_fd, name.c_str(), 1000)) swept.push_back(entry.path().string());
    }
    ::close(dir_fd);
    return swept;
}

}  // namespace

LaunchCgroups LaunchCgroups::find() {
    auto none = [](std::string why) { return LaunchCgroups{{}, std::move(why), {}}; };
    auto mount = cgroup2_mount();
    if (!mount) return none("no cgroup v2 hierarchy is mounted");
    auto own = own_cgroup();
    if (!own) return none("pyprofd is in no cgroup of the v2 hierarchy (/proc/self/cgroup)");
    std::string relative = *own;
    if (mount->root != "/") {
        if (!relative.starts_with(mount->root)) return none(fmt::format("pyprofd's cgroup {} is not under the mounted {}", *own, mount->root));
        relative = relative.substr(mount->root.size());
    }
    std::string dir = mount->mount_point + (relative == "/" ? "" : relative);
    // A unit's or scope's cgroup is systemd's to divide, unless it delegated it.
    auto last = own->substr(own->rfind('/') + 1);
    if (last.ends_with(".service") || last.ends_with(".scope")) {
        char value[8] = {};
        auto n = ::getxattr(dir.c_str(), "trusted.delegate", value, sizeof value - 1);
        if (n <= 0 || value[0] != '1')
            return none(fmt::format("pyprofd's cgroup {} is systemd's, which has not delegated it (the unit needs "
                                    "Delegate=yes, and ProtectControlGroups= off)",
                                    *own));
    }
    auto probe = ProgramCgroup::make(dir);
    if (!probe) return none(probe.error());
    if (probe->kill_fd() < 0) return none("the kernel has no cgroup.kill (Linux 5.14 or later)");
    // Whether a process can move in: the rules of the hierarchy may forbid it.
    pid_t child = ::fork();
    if (child == 0) ::_exit(::write(probe->procs_fd(), "0", 1) == 1 ? 0 : 1);
    int status = 0;
    if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return none(fmt::format("a process cannot be moved into a cgroup made in {}", dir));
    return LaunchCgroups{dir, {}, sweep_leftovers(dir)};
}

std::string LaunchCgroups::describe() const {
    if (!parent.empty()) {
        auto said = fmt::format("a cgroup each, made in {} and ended with cgroup.kill, nothing of it outlives its session",
                                parent);
        if (!swept.empty())
            said += fmt::format("; removed {} left by a pyprofd that no longer runs, killing what ran in them: {}",
                                swept.size(), fmt::join(swept, ", "));
        return said;
    }
    return fmt::format("no cgroup ({}); each one's keeper, the subreaper of all it starts, ends them process by process",
                       why_not);
}

std::expected<ProgramCgroup, std::string> ProgramCgroup::make(const std::string& parent) {
    ProgramCgroup cgroup;
    cgroup.name_ = fmt::format("pyprofd-launch-{}-{}", ::getpid(), next_number++);
    cgroup.path_ = parent + "/" + cgroup.name_;
    auto failed = [&](const char* what) {
        return std::unexpected(fmt::format("cannot {} {}: {}{}", what, cgroup.path_, std::strerror(errno),
                                           errno == EROFS ? " (the cgroup hierarchy is read-only here)" : ""));
    };
    cgroup.parent_fd_ = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup.parent_fd_ < 0) return failed("open the parent of");
    if (::mkdirat(cgroup.parent_fd_, cgroup.name_.c_str(), 0755) != 0) {
        cgroup.name_.clear();  // not ours to remove
        return failed("make the cgroup");
    }
    cgroup.procs_fd_ = ::open((cgroup.path_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (cgroup.procs_fd_ < 0) return failed("open cgroup.procs of");
    cgroup.kill_fd_ = ::open((cgroup.path_ + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
    return cgroup;
}

ProgramCgroup::ProgramCgroup(ProgramCgroup&& other) noexcept
    : path_(std::move(other.path_)),
      name_(std::exchange(other.name_, {})),
      procs_fd_(std::exchange(other.procs_fd_, -1)),
      kill_fd_(std::exchange(other.kill_fd_, -1)),
      parent_fd_(std::exchange(other.parent_fd_, -1)) {}

ProgramCgroup::~ProgramCgroup() {
    // Removed by the keeper once empty; here too, for a keeper that could not. The
    // kernel may take a moment to see that its last process has gone.
    if (parent_fd_ >= 0 && !name_.empty()) remove_when_empty(parent_fd_, name_.c_str(), 100);
    for (int fd : {procs_fd_, kill_fd_, parent_fd_})
        if (fd >= 0) ::close(fd);
}

}  // namespace pyprofd::daemon
