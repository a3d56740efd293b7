#include "daemon/descendant_processes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sampler/proc_files.hpp"

namespace pyprofd::daemon {
namespace {

// A small /proc file, whole; empty when it cannot be read (the process is gone).
std::string read_small_file(const std::string& path) {
    std::string text;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buffer[4096];
    for (;;) {
        auto n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > (1U << 20)) break;  // no children file is this long; stop reading
    }
    ::close(fd);
    return text;
}

std::optional<pid_t> number_named(std::string_view name) {
    pid_t value = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), value);
    if (error != std::errc() || end != name.data() + name.size() || value <= 0) return std::nullopt;
    return value;
}

// The numbered entries of a /proc directory.
std::vector<pid_t> numbered_entries(const std::string& path) {
    std::vector<pid_t> numbers;
    DIR* dir = ::opendir(path.c_str());
    if (!dir) return numbers;
    while (auto* entry = ::readdir(dir))
        if (auto n = number_named(entry->d_name)) numbers.push_back(*n);
    ::closedir(dir);
    return numbers;
}

void children_from_files(pid_t root, std::size_t most, std::vector<DescendantProcess>& found) {
    std::deque<pid_t> pending{root};
    while (!pending.empty() && found.size() < most) {
        pid_t parent = pending.front();
        pending.pop_front();
        auto task_dir = "/proc/" + std::to_string(parent) + "/task";
        for (pid_t tid : numbered_entries(task_dir)) {
            auto text = read_small_file(task_dir + "/" + std::to_string(tid) + "/children");
            std::string_view rest(text);
            while (!rest.empty() && found.size() < most) {
                auto space = rest.find(' ');
                auto word = rest.substr(0, space);
                rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
                if (auto child = number_named(word)) {
                    found.push_back({*child, parent});
                    pending.push_back(*child);
                }
            }
        }
    }
}

void children_from_scan(pid_t root, std::size_t most, std::vector<DescendantProcess>& found) {
    std::unordered_multimap<pid_t, pid_t> children_of;
    for (pid_t pid : numbered_entries("/proc"))
        if (auto parent = parent_of(pid)) children_of.emplace(*parent, pid);
    std::deque<pid_t> pending{root};
    while (!pending.empty() && found.size() < most) {
        pid_t parent = pending.front();
        pending.pop_front();
        auto [first, last] = children_of.equal_range(parent);
        for (auto it = first; it != last && found.size() < most; ++it) {
            found.push_back({it->second, parent});
            pending.push_back(it->second);
        }
    }
}

}  // namespace

std::optional<pid_t> parent_of(pid_t pid) {
    auto stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    // pid (comm) state ppid ...: the parent follows the state.
    auto fields = sampler::stat_after_command(stat);
    if (fields.size() <= 2) return std::nullopt;
    fields.remove_prefix(2);  // "S "
    auto space = fields.find(' ');
    pid_t parent = 0;
    auto [end, error] = std::from_chars(fields.data(), fields.data() + (space == std::string_view::npos ? fields.size() : space), parent);
    if (error != std::errc()) return std::nullopt;
    return parent;
}

bool kernel_lists_children() {
    static const bool has = ::access(("/proc/self/task/" + std::to_string(::gettid()) + "/children").c_str(), R_OK) == 0;
    return has;
}

std::vector<DescendantProcess> descendants_of(pid_t root, std::size_t most, DescendantSearch how) {
    std::vector<DescendantProcess> found;
    if (how == DescendantSearch::automatic)
        how = kernel_lists_children() ? DescendantSearch::children_files : DescendantSearch::proc_scan;
    if (how == DescendantSearch::children_files) children_from_files(root, most, found);
    else children_from_scan(root, most, found);
    return found;
}

}  // namespace pyprofd::daemon
