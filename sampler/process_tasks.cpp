#include "sampler/process_tasks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fmt/format.h>

#include "sampler/proc_files.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {
namespace {

// The whole of a small /proc file opened relative to dir; nothing when it is gone.
std::optional<std::string> read_small_file_at(int dir, const char* name) {
    int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (out.empty()) return std::nullopt;
    return out;
}

std::optional<NamespaceIds> nspid_of_file(int dir, const std::string& name) {
    auto status = read_small_file_at(dir, name.c_str());
    if (!status) return std::nullopt;
    return parse_nspid(*status);
}

}  // namespace

std::optional<NamespaceIds> parse_nspid(std::string_view status) {
    constexpr std::string_view key = "NSpid:";
    std::size_t at = status.starts_with(key) ? 0 : status.find("\nNSpid:");
    if (at == std::string_view::npos) return std::nullopt;
    auto line = status.substr(at + (at == 0 ? 0 : 1) + key.size());
    line = line.substr(0, line.find('\n'));
    NamespaceIds ids;
    bool first = true;
    while (!line.empty()) {
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (line.empty()) break;
        pid_t value = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
        if (ec != std::errc{} || value <= 0) return std::nullopt;
        line.remove_prefix(static_cast<std::size_t>(end - line.data()));
        if (first) ids.outer = value;
        ids.inner = value;
        first = false;
    }
    if (first) return std::nullopt;
    return ids;
}

ProcessTasks::ProcessTasks(pid_t pid) : pid_(pid), namespace_pid_(pid) {
    auto dir = fmt::format("/proc/{}", pid);
    int proc_dir = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (proc_dir < 0) return;
    task_dir_ = ::openat(proc_dir, "task", O_PATH | O_DIRECTORY | O_CLOEXEC);
    // No NSpid line (kernels before 4.1): the process counts as in our namespace.
    if (auto ids = nspid_of_file(proc_dir, "status"); ids && ids->outer == pid) {
        in_other_namespace_ = ids->inner != ids->outer;
        namespace_pid_ = ids->inner;
    }
    ::close(proc_dir);
}

ProcessTasks::~ProcessTasks() {
    if (task_dir_ >= 0) ::close(task_dir_);
}

std::vector<TaskIds> ProcessTasks::list() {
    std::vector<TaskIds> out;
    auto tids = list_threads(pid_);
    if (!tids) return out;
    for (pid_t tid : *tids) {
        if (!in_other_namespace_) {
            out.push_back({tid, tid});
            continue;
        }
        if (task_dir_ < 0) break;
        auto ids = nspid_of_file(task_dir_, fmt::format("{}/status", tid));
        // A thread that ended since the listing has no file any more.
        if (ids && ids->outer == tid) out.push_back({tid, ids->inner});
    }
    return out;
}

void ProcessTasks::remember(const std::vector<TaskIds>& tasks) {
    not_tasks_.clear();
    for (const auto& t : tasks) {
        auto [it, added] = known_.try_emplace(t.namespace_tid, Known{t, false});
        if (!added) it->second.ids = t;
    }
}

bool ProcessTasks::listed(pid_t id) const {
    if (task_dir_ < 0) return false;
    char name[16];
    auto end = fmt::format_to_n(name, sizeof name - 1, "{}", id).out;
    *end = '\0';
    struct stat st {};
    return ::fstatat(task_dir_, name, &st, 0) == 0;
}

std::optional<TaskIds> ProcessTasks::find(pid_t id) {
    if (id <= 0) return std::nullopt;
    auto it = known_.find(id);
    if (it == known_.end() && !not_tasks_.contains(id)) {
        if (!in_other_namespace_) {
            // Ours: the id is the host's; /proc/PID/task lists only this process's tasks.
            if (listed(id)) it = known_.emplace(id, Known{{id, id}, false}).first;
        } else if (!listed_this_sample_) {
            listed_this_sample_ = true;
            remember(list());
            it = known_.find(id);
        }
        if (it == known_.end()) {
            // The ids come from the target's memory: it decides how many there are.
            if (not_tasks_.size() >= max_threads) not_tasks_.clear();
            not_tasks_.insert(id);
        }
    }
    if (it == known_.end()) return std::nullopt;
    it->second.used = true;
    return it->second.ids;
}

void ProcessTasks::end_sample() {
    std::erase_if(known_, [](const auto& entry) { return !entry.second.used; });
    for (auto& [id, known] : known_) known.used = false;
}

}  // namespace pyprofd::sampler
