#include "daemon/launched_program.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fmt/format.h>
#include <thread>
#include <utility>

namespace pyprofd::daemon {
namespace {

using Clock = std::chrono::steady_clock;

bool group_exists(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno != ESRCH; }

// The keeper: a process of its own that waits on a pipe from pyprofd. A byte means
// "all is done, go"; end of file means pyprofd died, and the group must die too.
[[noreturn]] void run_keeper(int pipe_read_end, pid_t group) {
    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);  // Ctrl-C and SIGTERM are for pyprofd, not for us
    ::dup2(pipe_read_end, 0);
    ::syscall(SYS_close_range, 1U, ~0U, 0U);
    ::prctl(PR_SET_NAME, "pyprofd-keeper", 0, 0, 0);
    char byte;
    for (;;) {
        auto n = ::read(0, &byte, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ::kill(-group, SIGKILL);
        ::_exit(0);
    }
}

[[noreturn]] void run_program(const char* path, char* const* argv, char* const* envp, const RunAs* run_as,
                              pid_t parent, int exec_error_fd) {
    ::setpgid(0, 0);
    if (run_as) {
        // Groups, then group, then user: each step needs the privilege the next drops.
        if (::setgroups(run_as->groups.size(), run_as->groups.data()) != 0 || ::setgid(run_as->gid) != 0 ||
            ::setuid(run_as->uid) != 0) {
            int error = errno;
            [[maybe_unused]] auto n = ::write(exec_error_fd, &error, sizeof error);
            ::_exit(127);
        }
    }
    // After the change of user, which clears it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(127);  // pyprofd died before the line above took effect
    // What pyprofd blocked or ignored is not the program's business.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_DFL);
    // No descriptor of pyprofd's (sockets, state files) reaches the program.
    ::syscall(SYS_close_range, 3U, ~0U, static_cast<unsigned>(CLOSE_RANGE_CLOEXEC));
    ::execve(path, argv, envp);
    int error = errno;
    [[maybe_unused]] auto n = ::write(exec_error_fd, &error, sizeof error);
    ::_exit(127);
}

}  // namespace

std::expected<std::string, std::string> resolve_program(const std::string& name) {
    if (name.empty()) return std::unexpected("the command is empty");
    auto usable = [](const std::string& path) {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
    };
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), F_OK) != 0)
            return std::unexpected(fmt::format("cannot run '{}': {}", name, std::strerror(errno)));
        if (!usable(name)) return std::unexpected(fmt::format("cannot run '{}': not an executable file", name));
        return name;
    }
    const char* path_env = std::getenv("PATH");
    std::string_view path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        auto colon = path.find(':');
        auto dir = path.substr(0, colon);
        auto candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, name);
        if (usable(candidate)) return candidate;
        if (colon == std::string_view::npos) break;
        path.remove_prefix(colon + 1);
    }
    return std::unexpected(fmt::format("cannot run '{}': no such program on PATH ({})", name,
                                       path_env ? path_env : ""));
}

void become_child_subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = ::sigabbrev_np(WTERMSIG(status));
        return name ? fmt::format("was killed by SIG{}", name) : fmt::format("was killed by signal {}", WTERMSIG(status));
    }
    return "ended";
}

namespace {

RunAs run_as_entry(const passwd& found) {
    RunAs run_as{found.pw_name, found.pw_uid, found.pw_gid, {}, found.pw_dir ? found.pw_dir : "/"};
    int count = 64;
    run_as.groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(found.pw_name, found.pw_gid, run_as.groups.data(), &count) < 0) {
        run_as.groups.resize(static_cast<std::size_t>(count));
        ::getgrouplist(found.pw_name, found.pw_gid, run_as.groups.data(), &count);
    }
    run_as.groups.resize(static_cast<std::size_t>(count));
    return run_as;
}

}  // namespace

std::expected<RunAs, std::string> look_up_user(const std::string& name) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return std::unexpected(fmt::format("no user '{}' on this host", name));
    return run_as_entry(*found);
}

std::optional<RunAs> known_user(uid_t uid) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) return std::nullopt;
    return run_as_entry(*found);
}

RunAs run_as_uid(uid_t uid, std::optional<gid_t> gid) {
    if (auto user = known_user(uid)) return std::move(*user);
    gid_t group = gid.value_or(static_cast<gid_t>(uid));
    return RunAs{std::to_string(uid), uid, group, {group}, "/"};
}

std::expected<LaunchedProgram, std::string> LaunchedProgram::launch(const std::vector<std::string>& argv,
                                                                    const std::optional<RunAs>& run_as) {
    if (argv.empty()) return std::unexpected("no command to run");
    auto path = resolve_program(argv[0]);
    if (!path) return std::unexpected(path.error());
    std::vector<char*> c_argv;
    for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    c_argv.push_back(nullptr);
    // pyprofd's environment, but the user's own HOME, USER and LOGNAME.
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        if (run_as && (entry.starts_with("HOME=") || entry.starts_with("USER=") || entry.starts_with("LOGNAME=")))
            continue;
        env.emplace_back(entry);
    }
    if (run_as) {
        env.push_back("HOME=" + run_as->home);
        env.push_back("USER=" + run_as->name);
        env.push_back("LOGNAME=" + run_as->name);
    }
    std::vector<char*> c_env;
    for (auto& e : env) c_env.push_back(e.data());
    c_env.push_back(nullptr);

    int exec_pipe[2];
    if (::pipe2(exec_pipe, O_CLOEXEC) != 0) return std::unexpected(fmt::format("pipe: {}", std::strerror(errno)));
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(exec_pipe[0]);
        ::close(exec_pipe[1]);
        return std::unexpected(fmt::format("cannot start '{}': fork: {}", argv[0], std::strerror(e)));
    }
    if (pid == 0) run_program(path->c_str(), c_argv.data(), c_env.data(), run_as ? &*run_as : nullptr, parent, exec_pipe[1]);
    ::setpgid(pid, pid);  // also here, so the group exists before either side goes on
    ::close(exec_pipe[1]);

    LaunchedProgram program;
    program.pid_ = pid;
    int exec_error = 0;
    ssize_t n;
    do n = ::read(exec_pipe[0], &exec_error, sizeof exec_error);
    while (n < 0 && errno == EINTR);
    ::close(exec_pipe[0]);
    if (n == sizeof exec_error) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        program.program_reaped_ = true;
        program.terminated_ = true;
        return std::unexpected(fmt::format("cannot run '{}'{}: {}", *path,
                                           run_as ? fmt::format(" as {}", run_as->name) : std::string(),
                                           std::strerror(exec_error)));
    }

    int keeper_pipe[2];
    if (::pipe2(keeper_pipe, O_CLOEXEC) != 0)
        return std::unexpected(fmt::format("pipe: {}", std::strerror(errno)));  // the destructor ends the program
    pid_t keeper = ::fork();
    if (keeper < 0) {
        ::close(keeper_pipe[0]);
        ::close(keeper_pipe[1]);
        return std::unexpected(fmt::format("cannot start the keeper of '{}': fork: {}", argv[0], std::strerror(errno)));
    }
    if (keeper == 0) run_keeper(keeper_pipe[0], pid);
    ::close(keeper_pipe[0]);
    program.keeper_ = keeper;
    program.keeper_pipe_ = keeper_pipe[1];
    return program;
}

LaunchedProgram::LaunchedProgram(LaunchedProgram&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      keeper_(std::exchange(other.keeper_, -1)),
      keeper_pipe_(std::exchange(other.keeper_pipe_, -1)),
      program_reaped_(other.program_reaped_),
      terminated_(std::exchange(other.terminated_, true)),
      exit_description_(std::move(other.exit_description_)) {}

LaunchedProgram::~LaunchedProgram() {
    if (pid_ > 0) terminate();
}

bool LaunchedProgram::exited() {
    if (program_reaped_) return true;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        program_reaped_ = true;
        exit_description_ = describe_wait_status(status);
    } else if (r < 0 && errno == ECHILD) {
        program_reaped_ = true;  // reaped already, by reap_group
    }
    return program_reaped_;
}

void LaunchedProgram::reap_group() {
    exited();
    // As subreaper we also reap the group's orphans: no zombie stays behind.
    for (;;) {
        siginfo_t info{};
        if (::waitid(P_PGID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG) != 0 || info.si_pid == 0) break;
        if (info.si_pid == pid_ && !program_reaped_) {
            program_reaped_ = true;
            exit_description_ = info.si_code == CLD_EXITED ? describe_wait_status(W_EXITCODE(info.si_status, 0))
                                                           : describe_wait_status(info.si_status);
        }
    }
}

void LaunchedProgram::terminate(std::chrono::milliseconds grace) {
    if (terminated_ || pid_ <= 0) return;
    terminated_ = true;
    auto wait_until_gone = [&](Clock::duration limit) {
        auto deadline = Clock::now() + limit;
        for (;;) {
            reap_group();
            bool gone = !group_exists(pid_) && program_reaped_;
            if (gone || Clock::now() >= deadline) return gone;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    };
    if (!exited()) ::kill(pid_, SIGTERM);  // also if it left its group
    ::kill(-pid_, SIGTERM);
    if (!wait_until_gone(grace)) {
        if (!exited()) ::kill(pid_, SIGKILL);
        ::kill(-pid_, SIGKILL);
        wait_until_gone(std::chrono::seconds(10));
    }
    release_keeper();
}

void LaunchedProgram::release_keeper() {
    if (keeper_pipe_ < 0) return;
    char done = 1;
    [[maybe_unused]] auto n = ::write(keeper_pipe_, &done, 1);
    ::close(keeper_pipe_);
    keeper_pipe_ = -1;
    int status;
    while (::waitpid(keeper_, &status, 0) < 0 && errno == EINTR) {
    }
}

std::expected<sampler::PythonProcess, std::string> attach_when_python_runs(LaunchedProgram& program,
                                                                           std::stop_token stop) {
    using namespace std::chrono_literals;
    using Clock = std::chrono::steady_clock;
    // How long a launched program may take to bring up its interpreter.
    constexpr auto python_start_limit = 30s;
    auto deadline = Clock::now() + python_start_limit;
    std::string last_error;
    while (!stop.stop_requested()) {
        auto process = sampler::PythonProcess::attach(program.pid());
        if (process) {
            auto sample = process->sample({.thread_names = false, .thread_activity = false});
            if (sample && !sample->threads.empty()) return std::move(*process);
            last_error = sample ? "no Python thread yet" : sample.error().message;
        } else {
            if (process.error().kind == sampler::ErrorKind::permission_denied) return std::unexpected(process.error().message);
            last_error = process.error().message;
        }
        if (program.exited())
            return std::unexpected(fmt::format("the program {} before pyprofd could read its Python interpreter",
                                               program.exit_description()));
        if (Clock::now() > deadline)
            return std::unexpected(fmt::format("process {} has not started a Python interpreter pyprofd can read "
                                               "within {} s: {}",
                                               program.pid(), python_start_limit.count(), last_error));
        std::this_thread::sleep_for(5ms);
    }
    return std::unexpected("stopped before the program's Python interpreter started");
}

}  // namespace pyprofd::daemon
