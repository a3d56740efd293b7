#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pyprofd::tests {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void exec_child(const SpawnOptions& options, int out_fd, int err_fd, pid_t parent) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    // Children never outlive the test.
    ::setpgid(0, 0);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) _exit(126);
    for (const auto& e : options.extra_env) ::putenv(const_cast<char*>(e.c_str()));
    if (options.run_as) {
        if (::setgid(*options.run_as) != 0 || ::setuid(*options.run_as) != 0) _exit(126);
    }
    // Nor a test or bench killed outright (a time limit's SIGKILL, a user's kill):
    // the kernel ends the child with it. Set after the change of user, which clears
    // it; a parent gone already is caught by the check after.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(125);
    std::vector<char*> argv;
    for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    _exit(127);
}

// Reads what is available from fd into out, waiting at most until deadline. False at EOF.
bool read_some(int fd, std::string& out, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    out.append(buf, static_cast<std::size_t>(n));
    return true;
}

}  // namespace

ChildProcess::ChildProcess(const SpawnOptions& options) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) exec_child(options, fds[1], fds[1], parent);
    ::close(fds[1]);
    out_fd_ = fds[0];
}

ChildProcess::~ChildProcess() {
    kill_now();
    if (out_fd_ >= 0) ::close(out_fd_);
}

void ChildProcess::kill_now() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

void ChildProcess::read_available(std::chrono::milliseconds wait) {
    auto deadline = Clock::now() + wait;
    do {
        pollfd p{out_fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) return;
        output_.append(buf, static_cast<std::size_t>(n));
    } while (Clock::now() < deadline);
}

void ChildProcess::send(int signal) const {
    if (pid_ > 0) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    bool open = true;
    while (pid_ > 0) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            // The rest of its output; bounded, as a survivor of its own may hold the pipe.
            auto drain_until = Clock::now() + std::chrono::milliseconds(500);
            while (open && Clock::now() < drain_until) open = read_some(out_fd_, output_, drain_until);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        }
        if (Clock::now() >= deadline) return std::nullopt;
        if (open)
            open = read_some(out_fd_, output_, std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
        else
            ::usleep(10000);
    }
    return std::nullopt;
}

bool ChildProcess::wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        std::size_t start = 0;
        while (start < output_.size()) {
            auto end = output_.find('\n', start);
            if (end == std::string::npos) break;
            if (output_.compare(start, end - start, line) == 0) return true;
            start = end + 1;
        }
        if (!read_some(out_fd_, output_, deadline)) return false;
    }
    return false;
}

CommandResult run_command(const SpawnOptions& options, std::chrono::milliseconds timeout) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) exec_child(options, out[1], err[1], parent);
    ::close(out[1]);
    ::close(err[1]);
    CommandResult result;
    auto deadline = Clock::now() + timeout;
    bool out_open = true, err_open = true;
    while ((out_open || err_open) && Clock::now() < deadline) {
        pollfd p[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (::poll(p, 2, static_cast<int>(std::max<long>(left, 1))) <= 0) continue;
        char buf[65536];
        if (out_open && (p[0].revents & (POLLIN | POLLHUP))) {
            ssize_t n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) out_open = false; else result.out.append(buf, static_cast<std::size_t>(n));
        }
        if (err_open && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = ::read(err[0], buf, sizeof buf);
            if (n <= 0) err_open = false; else result.err.append(buf, static_cast<std::size_t>(n));
        }
    }
    if (out_open || err_open) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out[0]);
    ::close(err[0]);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string source_path(const std::string& relative) { return std::string(PYPROFD_SOURCE_DIR) + "/" + relative; }
std::string pyprofd_binary() { return PYPROFD_BINARY; }

}  // namespace pyprofd::tests
