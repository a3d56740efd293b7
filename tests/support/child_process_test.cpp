// The tests' and benches' child processes end with the process that started them,
// however it ends: a time limit's SIGKILL runs no destructor, and a target left
// behind would go on using the machine.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/child_process.hpp"

using namespace pyprofd;

TEST_CASE("a child process ends when the process that started it is killed outright") {
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t starter = ::fork();
    REQUIRE(starter >= 0);
    if (starter == 0) {
        // Starts a child as a test would, says which, and waits to be killed.
        ::close(report[0]);
        tests::ChildProcess child({.argv = {"sleep", "600"}});
        pid_t pid = child.pid();
        if (::write(report[1], &pid, sizeof pid) != sizeof pid) _exit(1);
        for (;;) ::pause();
    }
    ::close(report[1]);
    pid_t child = 0;
    REQUIRE(::read(report[0], &child, sizeof child) == sizeof child);
    ::close(report[0]);
    REQUIRE(child > 0);
    // Held from before the kill: it names that process whatever its PID does later.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
    REQUIRE(pidfd >= 0);

    pollfd before{pidfd, POLLIN, 0};
    CHECK(::poll(&before, 1, 200) == 0);  // the child runs while its starter does
    REQUIRE(::kill(starter, SIGKILL) == 0);
    REQUIRE(::waitpid(starter, nullptr, 0) == starter);
    pollfd after{pidfd, POLLIN, 0};
    const bool ended = ::poll(&after, 1, 10'000) == 1;
    CHECK_MESSAGE(ended, "the child " << child << " outlived the process that started it");
    if (!ended) ::kill(child, SIGKILL);
    ::close(pidfd);
}
