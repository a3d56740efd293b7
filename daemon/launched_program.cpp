#include "daemon/launched_program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <set>
#include <spdlog/spdlog.h>
#include <thread>
#include <utility>

#include "daemon/descriptor_limit.hpp"
#include "daemon/launch_environment.hpp"
#include "daemon/program_keeper.hpp"

namespace pyprofd::daemon {
namespace {

using Clock = std::chrono::steady_clock;

// The keepers that a LaunchedProgram waits for itself: reap_stray_children leaves
// them alone. A launch holds the lock from fork to entry, so that no sweep meets a
// keeper it does not know yet. (Never destroyed: a thread may use it at exit.)
std::mutex& keepers_mutex() {
    static auto* mutex = new std::mutex;
    return *mutex;
}
std::set<pid_t>& keepers() {
    static auto* pids = new std::set<pid_t>;
    return *pids;
}

void forget_keeper(pid_t keeper) {
    std::lock_guard lock(keepers_mutex());
    keepers().erase(keeper);
}

// A descriptor that closes itself.
class Descriptor {
public:
    Descriptor() = default;
    explicit Descriptor(int fd) : fd_(fd) {}
    Descriptor(Descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Descriptor& operator=(Descriptor&& other) noexcept {
        reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~Descriptor() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Moved above 0, 1 and 2 (a daemon started with those closed gets them back from
// pipe() and open()), where the program's stdin, stdout and stderr will go.
Descriptor above_stdio(int fd) {
    if (fd < 0 || fd > 2) return Descriptor(fd);
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    return Descriptor(moved);
}

struct Pipe {
    Descriptor read, write;
};
std::expected<Pipe, std::string> make_pipe() {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return std::unexpected(fmt::format("pipe: {}", std::strerror(errno)));
    return Pipe{above_stdio(ends[0]), above_stdio(ends[1])};
}

std::string launch_failure_message(const LaunchFailure& failure, const std::string& path, const std::string& argv0,
                                   const LaunchOptions& options) {
    auto as = options.run_as ? fmt::format(" as {}", options.run_as->name) : std::string();
    const char* why = std::strerror(failure.error);
    switch (failure.step) {
        case LaunchStep::fork: return fmt::format("cannot start '{}': fork: {}", argv0, why);
        case LaunchStep::cgroup: return fmt::format("cannot run '{}': cannot move it into its cgroup: {}", path, why);
        case LaunchStep::session: return fmt::format("cannot run '{}': cannot give it a process group or session of its own: {}", path, why);
        case LaunchStep::directory:
            return fmt::format("cannot run '{}'{}: cannot enter its working directory {}: {}", path, as,
                               options.clean ? options.clean->working_directory : std::string(), why);
        case LaunchStep::output: return fmt::format("cannot run '{}': cannot connect its stdin, stdout and stderr: {}", path, why);
        case LaunchStep::limits: return fmt::format("cannot run '{}': cannot give it the descriptor limit pyprofd started with: {}", path, why);
        case LaunchStep::credentials:
        case LaunchStep::exec: break;
    }
    return fmt::format("cannot run '{}'{}: {}", path, as, why);
}

}  // namespace

void reap_stray_children() {
    std::lock_guard lock(keepers_mutex());
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream children(task.path() / "children");
        pid_t child;
        while (children >> child) {
            if (keepers().contains(child)) continue;
            siginfo_t info{};
            if (::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG) == 0 && info.si_pid == child)
                spdlog::info("reaped process {}, left to pyprofd by a program's keeper", child);
        }
    }
}

std::expected<std::string, std::string> resolve_program(const std::string& name,
                                                        std::optional<std::string_view> search_path) {
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
    std::string_view path = search_path ? *search_path : path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
    const std::string searched(path);
    while (true) {
        auto colon = path.find(':');
        auto dir = path.substr(0, colon);
        auto candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, name);
        if (usable(candidate)) return candidate;
        if (colon == std::string_view::npos) break;
        path.remove_prefix(colon + 1);
    }
    return std::unexpected(fmt::format("cannot run '{}': no such program on PATH ({})", name, searched));
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

std::expected<std::string, std::string> resolve_program(const std::string& argv0, const LaunchOptions& options) {
    if (!options.clean) return resolve_program(argv0);
    const auto& clean = *options.clean;
    if (argv0.find('/') != std::string::npos && !argv0.starts_with('/'))
        return resolve_program((std::filesystem::path(clean.working_directory) / argv0).lexically_normal().string());
    // Its PATH's absolute directories: a relative one would mean another place to the
    // program (in its working directory) than to pyprofd.
    std::string absolute;
    std::string_view path = environment_value(clean.environment, "PATH");
    while (!path.empty()) {
        auto colon = path.find(':');
        auto dir = path.substr(0, colon);
        if (dir.starts_with('/')) absolute += (absolute.empty() ? "" : ":") + std::string(dir);
        path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    }
    return resolve_program(argv0, absolute);
}

std::expected<LaunchedProgram, std::string> LaunchedProgram::launch(const std::vector<std::string>& argv,
                                                                    const LaunchOptions& options) {
    if (argv.empty()) return std::unexpected("no command to run");
    auto path = resolve_program(argv[0], options);
    if (!path) return std::unexpected(path.error());
    std::vector<char*> c_argv;
    for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    c_argv.push_back(nullptr);
    const auto& run_as = options.run_as;
    std::vector<std::string> env;
    if (options.clean) {
        env = options.clean->environment;
    } else {
        // pyprofd's environment, but the user's own HOME, USER and LOGNAME.
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
    }
    std::vector<char*> c_env;
    for (auto& e : env) c_env.push_back(e.data());
    c_env.push_back(nullptr);

    // Everything the keeper and the program need, made before fork.
    auto null = above_stdio(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (null.get() < 0) return std::unexpected(fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
    auto command = make_pipe();
    if (!command) return std::unexpected(command.error());
    auto reports = make_pipe();
    if (!reports) return std::unexpected(reports.error());
    auto exec_errors = make_pipe();
    if (!exec_errors) return std::unexpected(exec_errors.error());
    std::optional<Pipe> output;
    if (options.clean) {
        auto made = make_pipe();
        if (!made) return std::unexpected(made.error());
        output.emplace(std::move(*made));
    }
    std::optional<ProgramCgroup> cgroup;
    if (!options.cgroup_parent.empty()) {
        auto made = ProgramCgroup::make(options.cgroup_parent);
        if (made)
            cgroup.emplace(std::move(*made));
        else  // the keeper still ends all of it, process by process
            spdlog::warn("{}; {} runs without a cgroup of its own", made.error(), argv[0]);
    }
    const auto descriptor_limit = descriptor_limit_at_start();
    KeeperPlan plan{.path = path->c_str(),
                    .argv = c_argv.data(),
                    .envp = c_env.data(),
                    .run_as = run_as ? &*run_as : nullptr,
                    .descriptor_limit = descriptor_limit ? &*descriptor_limit : nullptr,
                    .clean = options.clean.has_value(),
                    .working_directory = options.clean ? options.clean->working_directory.c_str() : nullptr,
                    .null_fd = null.get(),
                    .output_fd = output ? output->write.get() : -1,
                    .cgroup_procs_fd = cgroup ? cgroup->procs_fd() : -1,
                    .cgroup_kill_fd = cgroup ? cgroup->kill_fd() : -1,
                    .cgroup_parent_fd = cgroup ? cgroup->parent_fd() : -1,
                    .cgroup_name = cgroup ? cgroup->name().c_str() : nullptr,
                    .command_fd = command->read.get(),
                    .report_fd = reports->write.get(),
                    .exec_error_fd = exec_errors->write.get()};
    pid_t keeper;
    {
        std::lock_guard lock(keepers_mutex());
        keeper = ::fork();
        if (keeper == 0) run_keeper(plan);
        if (keeper > 0) keepers().insert(keeper);
    }
    if (keeper < 0) return std::unexpected(fmt::format("cannot start '{}': fork: {}", argv[0], std::strerror(errno)));
    null.reset();
    command->read.reset();
    reports->write.reset();
    exec_errors->write.reset();
    if (output) output->write.reset();  // the program's and the keeper's now: end of file once all are gone

    LaunchedProgram program;
    program.keeper_ = keeper;
    program.command_fd_ = command->write.release();
    program.report_fd_ = reports->read.release();
    if (output) {
        program.output_fd_ = output->read.release();
        ::fcntl(program.output_fd_, F_SETFL, O_NONBLOCK);
    }
    if (cgroup) program.cgroup_.emplace(std::move(*cgroup));
    ::fcntl(program.report_fd_, F_SETFL, O_NONBLOCK);
    // Until the program has exec'd (end of file) or said why it could not.
    LaunchFailure failure{};
    ssize_t n;
    do n = ::read(exec_errors->read.get(), &failure, sizeof failure);
    while (n < 0 && errno == EINTR);
    // Its PID came before the keeper let go of the pipe.
    program.read_reports();
    if (n == static_cast<ssize_t>(sizeof failure) || program.pid_ <= 0) {
        program.terminate(std::chrono::milliseconds(0));
        if (n != static_cast<ssize_t>(sizeof failure)) return std::unexpected(fmt::format("cannot start '{}': its keeper failed", argv[0]));
        return std::unexpected(launch_failure_message(failure, *path, argv[0], options));
    }
    return program;
}

LaunchedProgram::LaunchedProgram(LaunchedProgram&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      keeper_(std::exchange(other.keeper_, -1)),
      command_fd_(std::exchange(other.command_fd_, -1)),
      report_fd_(std::exchange(other.report_fd_, -1)),
      output_fd_(std::exchange(other.output_fd_, -1)),
      report_bytes_(std::move(other.report_bytes_)),
      program_exited_(other.program_exited_),
      terminated_(std::exchange(other.terminated_, true)),
      exit_description_(std::move(other.exit_description_)),
      cgroup_(std::move(other.cgroup_)) {}

LaunchedProgram::~LaunchedProgram() {
    if (keeper_ > 0) terminate();
    close_pipes();
    if (output_fd_ >= 0) ::close(output_fd_);
}

void LaunchedProgram::close_pipes() {
    for (int* fd : {&command_fd_, &report_fd_}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

bool LaunchedProgram::read_reports(std::optional<Clock::time_point> until) {
    if (report_fd_ < 0) return true;
    for (;;) {
        char buffer[256];
        ssize_t n = ::read(report_fd_, buffer, sizeof buffer);
        if (n > 0) {
            report_bytes_.append(buffer, static_cast<std::size_t>(n));
            while (report_bytes_.size() >= sizeof(KeeperReport)) {
                KeeperReport report;
                std::memcpy(&report, report_bytes_.data(), sizeof report);
                report_bytes_.erase(0, sizeof report);
                if (report.kind == KeeperReport::started) pid_ = report.value;
                if (report.kind == KeeperReport::exited) {
                    program_exited_ = true;
                    exit_description_ = describe_wait_status(report.value);
                }
            }
            continue;
        }
        if (n == 0) return true;
        if (errno == EINTR) continue;
        if (errno != EAGAIN || !until) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*until - Clock::now()).count();
        if (left <= 0) return false;
        pollfd fd{report_fd_, POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    }
}

bool LaunchedProgram::exited() {
    if (!program_exited_) read_reports();
    return program_exited_;
}

void LaunchedProgram::terminate(std::chrono::milliseconds grace) {
    if (terminated_ || keeper_ <= 0) return;
    terminated_ = true;
    KeeperCommand command{static_cast<std::int32_t>(grace.count())};
    [[maybe_unused]] auto n = ::write(command_fd_, &command, sizeof command);
    ::close(command_fd_);
    command_fd_ = -1;
    // The keeper's end of file says all is gone; a process the kernel cannot end
    // (stuck in a device driver, say) may hold it up, but not pyprofd for long.
    if (read_reports(Clock::now() + grace + std::chrono::seconds(10))) {
        int status;
        while (::waitpid(keeper_, &status, 0) < 0 && errno == EINTR) {
        }
    } else {
        spdlog::warn("the keeper of process {} has not ended it after {} s; it goes on trying", pid_,
                     std::chrono::duration_cast<std::chrono::seconds>(grace).count() + 10);
    }
    forget_keeper(keeper_);
    keeper_ = -1;
    close_pipes();
    cgroup_.reset();
}

std::expected<sampler::PythonProcess, std::string> attach_when_python_runs(
    LaunchedProgram& program, std::stop_token stop, sampler::PythonProcess::DescriptorShare share) {
    using namespace std::chrono_literals;
    using Clock = std::chrono::steady_clock;
    // How long a launched program may take to bring up its interpreter.
    constexpr auto python_start_limit = 30s;
    auto deadline = Clock::now() + python_start_limit;
    std::string last_error;
    while (!stop.stop_requested()) {
        auto process = sampler::PythonProcess::attach_as(program.pid(), share);
        if (process) {
            auto sample = process->sample({.thread_names = false, .thread_activity = false});
            if (sample && !sample->threads.empty()) return std::move(*process);
            last_error = sample ? "no Python thread yet" : sample.error().message;
        } else {
            // Neither passes by waiting for the interpreter.
            if (process.error().kind == sampler::ErrorKind::permission_denied ||
                process.error().kind == sampler::ErrorKind::out_of_descriptors)
                return std::unexpected(process.error().message);
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
