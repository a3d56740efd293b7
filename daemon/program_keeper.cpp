#include "daemon/program_keeper.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "daemon/launched_program.hpp"
#include "daemon/process_subtree.hpp"

// Everything here runs in a forked child of a multithreaded process: no allocation,
// no locks, no stdio; system calls on what the plan holds.
namespace pyprofd::daemon {
namespace {

void report_failure(int fd, LaunchStep step, int error) {
    LaunchFailure failure{step, error};
    [[maybe_unused]] auto n = ::write(fd, &failure, sizeof failure);
}

void report(int fd, KeeperReport::Kind kind, std::int32_t value) {
    KeeperReport message{kind, value};
    [[maybe_unused]] auto n = ::write(fd, &message, sizeof message);
}

long now_ms() {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1'000'000;
}

void sleep_ms(long ms) {
    timespec t{ms / 1000, (ms % 1000) * 1'000'000};
    ::nanosleep(&t, nullptr);
}

// Closes every descriptor but those in keep (-1 entries are ignored).
template <std::size_t N>
void close_all_but(int (&keep)[N]) {
    // Sorted (insertion sort: a handful of numbers), then the gaps between them closed.
    for (std::size_t i = 1; i < N; ++i)
        for (std::size_t j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned next = 0;
    for (int fd : keep) {
        if (fd < 0) continue;
        if (static_cast<unsigned>(fd) > next) ::syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0U);
        next = static_cast<unsigned>(fd) + 1;
    }
    ::syscall(SYS_close_range, next, ~0U, 0U);
}

[[noreturn]] void run_program(const KeeperPlan& plan, pid_t keeper) {
    auto fail = [&](LaunchStep step) {
        report_failure(plan.exec_error_fd, step, errno);
        ::_exit(127);
    };
    // First, while nothing of the program's runs yet: into its cgroup, which all it
    // starts will share and none can leave (the cgroup's files are root's).
    if (plan.cgroup_procs_fd >= 0 && ::write(plan.cgroup_procs_fd, "0", 1) != 1) fail(LaunchStep::cgroup);
    // A session of its own has no controlling terminal, and cannot open /dev/tty.
    if (plan.clean ? ::setsid() < 0 : ::setpgid(0, 0) != 0) fail(LaunchStep::session);
    if (plan.run_as) {
        // Groups, then group, then user: each step needs the privilege the next drops.
        const RunAs& as = *plan.run_as;
        if (::setgroups(as.groups.size(), as.groups.data()) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)
            fail(LaunchStep::credentials);
    }
    // After the change of user, which clears it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != keeper) ::_exit(127);  // the keeper died before the line above took effect
    if (plan.clean) {
        // As the user, so the kernel decides whether that user may be there.
        if (::chdir(plan.working_directory) != 0) fail(LaunchStep::directory);
        if (::dup2(plan.null_fd, 0) < 0 || ::dup2(plan.output_fd, 1) < 0 || ::dup2(plan.output_fd, 2) < 0)
            fail(LaunchStep::output);
    }
    // What pyprofd blocked, ignored or raised is not the program's business.
    if (plan.descriptor_limit && ::setrlimit(RLIMIT_NOFILE, plan.descriptor_limit) != 0) fail(LaunchStep::limits);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD}) ::signal(sig, SIG_DFL);
    ::syscall(SYS_close_range, 3U, ~0U, static_cast<unsigned>(CLOSE_RANGE_CLOEXEC));
    ::execve(plan.path, plan.argv, plan.envp);
    fail(LaunchStep::exec);
    ::_exit(127);  // not reached
}

}  // namespace

[[noreturn]] void run_keeper(const KeeperPlan& plan) {
    // Ctrl-C and SIGTERM are for pyprofd, not for us; SIGCHLD comes through a signalfd.
    sigset_t all;
    ::sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::prctl(PR_SET_NAME, "pyprofd-keeper", 0, 0, 0);
    // Every orphan below us becomes ours, however it left the program's group or session.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    // Nothing of pyprofd's (sockets, state files, other keepers' pipes) stays open here.
    int keep[] = {0, 1, 2, plan.null_fd, plan.output_fd, plan.cgroup_procs_fd, plan.cgroup_kill_fd,
                  plan.cgroup_parent_fd, plan.command_fd, plan.report_fd, plan.exec_error_fd};
    close_all_but(keep);
    // A clean program gets nothing of pyprofd's terminal or log, and nor do we.
    if (plan.clean)
        for (int fd = 0; fd < 3; ++fd) ::dup2(plan.null_fd, fd);
    ProcessSubtree subtree;
    subtree.prepare();
    sigset_t child;
    ::sigemptyset(&child);
    ::sigaddset(&child, SIGCHLD);
    int child_signals = ::signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);

    const pid_t self = ::getpid();
    pid_t program = ::fork();
    if (program < 0) {
        report_failure(plan.exec_error_fd, LaunchStep::fork, errno);
        ::_exit(1);
    }
    if (program == 0) run_program(plan, self);
    report(plan.report_fd, KeeperReport::started, program);
    ::close(plan.exec_error_fd);
    if (plan.output_fd >= 0) ::close(plan.output_fd);
    if (plan.cgroup_procs_fd >= 0) ::close(plan.cgroup_procs_fd);
    if (!plan.clean)
        for (int fd = 0; fd < 3; ++fd) ::dup2(plan.null_fd, fd);  // the program has pyprofd's terminal; we let go
    ::close(plan.null_fd);

    // Reaps every child that has ended (telling pyprofd of the program); whether any is left.
    auto reap = [&]() -> bool {
        for (;;) {
            siginfo_t info{};
            if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0) return errno != ECHILD;
            if (info.si_pid == 0) return true;
            if (info.si_pid == program) {
                int status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8
                                                        : (info.si_status & 0x7f) | (info.si_code == CLD_DUMPED ? 0x80 : 0);
                report(plan.report_fd, KeeperReport::exited, status);
            }
        }
    };
    // Waits up to ms for a child to change state.
    auto wait_for_children = [&](long ms) {
        if (child_signals < 0) return sleep_ms(ms);
        pollfd fd{child_signals, POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(ms));
        signalfd_siginfo drained;
        while (::read(child_signals, &drained, sizeof drained) > 0) {
        }
    };

    // Until pyprofd says to end (or dies, and its pipe reads end of file).
    int grace_ms = 0;
    for (;;) {
        reap();
        pollfd fds[2] = {{plan.command_fd, POLLIN, 0}, {child_signals, POLLIN, 0}};
        int ready = ::poll(fds, child_signals >= 0 ? 2 : 1, child_signals >= 0 ? -1 : 50);
        if (ready < 0 && errno == EINTR) continue;
        if (ready > 0 && fds[1].revents) {
            signalfd_siginfo drained;
            while (::read(child_signals, &drained, sizeof drained) > 0) {
            }
        }
        if (ready < 0 || fds[0].revents) {
            KeeperCommand command{};
            ssize_t got = ready < 0 ? -1 : ::read(plan.command_fd, &command, sizeof command);
            if (got < 0 && errno == EINTR) continue;
            grace_ms = got == static_cast<ssize_t>(sizeof command) ? command.grace_ms : 0;
            break;
        }
    }

    // The end: SIGTERM to every process below, then SIGKILL to whatever is left after
    // the grace, until there is no child left (orphans come to us as they are freed).
    if (grace_ms > 0 && reap()) {
        subtree.signal_all(SIGTERM);
        long deadline = now_ms() + grace_ms;
        while (reap()) {
            long left = deadline - now_ms();
            if (left <= 0) break;
            wait_for_children(left < 20 ? left : 20);
        }
    }
    while (reap()) {
        // With a cgroup, at once and with no race against fork; the walk as well, for
        // a kernel that refuses the write.
        if (plan.cgroup_kill_fd < 0 || ::write(plan.cgroup_kill_fd, "1", 1) != 1) subtree.signal_all(SIGKILL);
        wait_for_children(20);
    }
    if (plan.cgroup_parent_fd >= 0 && plan.cgroup_name) {
        // Empty now, but the kernel may take a while to say so on a loaded host, and
        // once pyprofd is gone nobody else will remove it: keep trying for long (the
        // keeper has nothing else to do), killing and reaping anything that still
        // turns up in it, until it goes.
        long deadline = now_ms() + 30'000;
        for (long pause = 1;; pause = pause < 64 ? pause * 2 : pause) {
            if (::unlinkat(plan.cgroup_parent_fd, plan.cgroup_name, AT_REMOVEDIR) == 0) break;
            // Left for the next pyprofd to start (launch_cgroup's sweep); the exit
            // status says why, to whoever reaps us (10 + errno).
            if (errno != EBUSY || now_ms() >= deadline) ::_exit(10 + (errno < 200 ? errno : 200));
            if (plan.cgroup_kill_fd >= 0) {
                [[maybe_unused]] auto n = ::write(plan.cgroup_kill_fd, "1", 1);
            }
            wait_for_children(pause);
            reap();
        }
    }
    ::_exit(0);
}

}  // namespace pyprofd::daemon
