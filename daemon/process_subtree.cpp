#include "daemon/process_subtree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

// Everything here runs in a forked child of a multithreaded process: no allocation,
// no locks, no stdio; system calls and arithmetic only.
namespace pyprofd::daemon {
namespace {

char* put_text(char* out, const char* text) {
    while (*text) *out++ = *text++;
    return out;
}

char* put_number(char* out, long n) {
    char digits[24];
    int count = 0;
    do {
        digits[count++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n > 0 && count < 24);
    while (count > 0) *out++ = digits[--count];
    return out;
}

// "/proc/PID" followed by rest, in out (64 bytes are enough).
void proc_path(char* out, pid_t pid, const char* rest) {
    char* end = put_number(put_text(out, "/proc/"), pid);
    end = put_text(end, rest);
    *end = '\0';
}

// Whether name is a number (a PID or TID in /proc), and which.
bool parse_pid(const char* name, pid_t& pid) {
    long n = 0;
    if (!*name) return false;
    for (; *name; ++name) {
        if (*name < '0' || *name > '9' || n > 100'000'000) return false;
        n = n * 10 + (*name - '0');
    }
    pid = static_cast<pid_t>(n);
    return true;
}

// The parent of pid from /proc/PID/stat ("pid (comm) S ppid ..."), -1 if it is gone.
pid_t parent_of(pid_t pid) {
    char path[64];
    proc_path(path, pid, "/stat");
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char text[512];
    ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) return -1;
    // The command name may hold ')' and spaces; the last ')' ends it.
    ssize_t close_paren = -1;
    for (ssize_t i = 0; i < n; ++i)
        if (text[i] == ')') close_paren = i;
    ssize_t i = close_paren + 2;  // the state letter
    if (close_paren < 0 || i + 2 >= n) return -1;
    i += 2;
    long ppid = 0;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) ppid = ppid * 10 + (text[i] - '0');
    return static_cast<pid_t>(ppid);
}

// Calls found(child) for each child of every thread of pid; false where the kernel
// has no children files (or pid is gone).
template <class Found>
bool for_each_child(pid_t pid, Found&& found) {
    char path[64];
    proc_path(path, pid, "/task");
    int tasks = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tasks < 0) return false;
    bool readable = false;
    alignas(8) char entries[2048];
    for (;;) {
        long n = ::syscall(SYS_getdents64, tasks, entries, sizeof entries);
        if (n <= 0) break;
        for (long at = 0; at < n;) {
            const auto* entry = reinterpret_cast<const dirent64*>(entries + at);
            at += entry->d_reclen;
            pid_t tid = 0;
            if (!parse_pid(entry->d_name, tid)) continue;
            char children[64];
            *put_text(put_number(children, tid), "/children") = '\0';
            int fd = ::openat(tasks, children, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            readable = true;
            char text[1024];
            long number = -1;
            for (;;) {
                ssize_t got = ::read(fd, text, sizeof text);
                if (got <= 0) break;
                for (ssize_t i = 0; i < got; ++i) {
                    if (text[i] >= '0' && text[i] <= '9') {
                        number = (number < 0 ? 0 : number * 10) + (text[i] - '0');
                    } else if (number >= 0) {
                        found(static_cast<pid_t>(number));
                        number = -1;
                    }
                }
            }
            if (number >= 0) found(static_cast<pid_t>(number));
            ::close(fd);
        }
    }
    ::close(tasks);
    return readable;
}

// Without children files: the processes whose parent is pid, from every /proc/PID/stat.
template <class Found>
void for_each_child_by_scan(pid_t pid, Found&& found) {
    int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return;
    alignas(8) char entries[4096];
    for (;;) {
        long n = ::syscall(SYS_getdents64, proc, entries, sizeof entries);
        if (n <= 0) break;
        for (long at = 0; at < n;) {
            const auto* entry = reinterpret_cast<const dirent64*>(entries + at);
            at += entry->d_reclen;
            pid_t other = 0;
            if (parse_pid(entry->d_name, other) && parent_of(other) == pid) found(other);
        }
    }
    ::close(proc);
}

}  // namespace

void ProcessSubtree::prepare() {
    if (stack_ != small_) return;
    constexpr std::size_t entries = 1 << 20;  // more than a subtree holds at once, in practice
    void* area = ::mmap(nullptr, entries * sizeof(Entry), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return;
    stack_ = static_cast<Entry*>(area);
    capacity_ = entries;
}

void ProcessSubtree::push(pid_t pid, pid_t parent) {
    if (size_ < capacity_) stack_[size_++] = Entry{pid, parent};  // else the next round finds it
}

int ProcessSubtree::signal_all(int sig) {
    const pid_t self = ::getpid();
    size_ = 0;
    if (!for_each_child(self, [&](pid_t child) { push(child, self); }))
        for_each_child_by_scan(self, [&](pid_t child) { push(child, self); });
    int reached = 0;
    while (size_ > 0) {
        Entry entry = stack_[--size_];
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, entry.pid, 0));
        if (pidfd < 0 && errno != ENOSYS) continue;  // gone already
        // Pinned: if it is still the child of who listed it (or ours, as an orphan), it
        // is the process we found and not another that took its PID since.
        pid_t parent = parent_of(entry.pid);
        if (parent != entry.parent && parent != self) {
            if (pidfd >= 0) ::close(pidfd);
            continue;
        }
        // Its children first: once it is gone they are ours, and found by the next round.
        for_each_child(entry.pid, [&](pid_t child) { push(child, entry.pid); });
        long sent = pidfd >= 0 ? ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) : ::kill(entry.pid, sig);
        if (sent == 0) ++reached;
        if (pidfd >= 0) ::close(pidfd);
    }
    return reached;
}

}  // namespace pyprofd::daemon
