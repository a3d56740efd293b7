#pragma once
// A program pyprofd starts in order to profile it, and which must never outlive
// the profile: it runs in a process group of its own, gets SIGKILL if the thread
// that started it dies (PR_SET_PDEATHSIG), and a small keeper process kills its
// whole group if pyprofd itself dies, even by SIGKILL. terminate() (also run by
// the destructor) ends the group and reaps it.
//
// Reaping grandchildren needs pyprofd to be their subreaper:
// become_child_subreaper() once at start, before launching.
#include <sys/types.h>

#include <chrono>
#include <expected>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "sampler/python_process.hpp"

namespace pyprofd::daemon {

// Makes orphaned descendants of the launched programs ours to reap, so that none
// is left behind as a zombie where PID 1 does not reap (containers).
void become_child_subreaper();

// argv[0] as execv needs it: the path of an executable file, looked up on PATH when
// it has no '/'. Resolved in the parent rather than by execvp in the child, where a
// multithreaded parent allows only async-signal-safe calls; the error says why not.
std::expected<std::string, std::string> resolve_program(const std::string& name);

// The user a launched program runs as, looked up once (not in the forked child,
// where only async-signal-safe calls are allowed).
struct RunAs {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups
    std::string home;
};
std::expected<RunAs, std::string> look_up_user(const std::string& name);
// The same by uid, where the user database knows it.
std::optional<RunAs> known_user(uid_t uid);
// As whom to run a program for uid. A uid the user database does not know (a
// container's, say) is still a user: that uid, the group given (or none beyond the
// uid's number), and HOME=/.
RunAs run_as_uid(uid_t uid, std::optional<gid_t> gid = std::nullopt);

class LaunchedProgram {
public:
    // Starts argv[0] (looked up on PATH) with argv, as run_as if given (with its
    // HOME, USER and LOGNAME), else as pyprofd's own user. Fails with a message that
    // says what could not be run and why.
    static std::expected<LaunchedProgram, std::string> launch(const std::vector<std::string>& argv,
                                                              const std::optional<RunAs>& run_as = std::nullopt);

    LaunchedProgram(LaunchedProgram&& other) noexcept;
    LaunchedProgram& operator=(LaunchedProgram&&) = delete;
    ~LaunchedProgram();

    pid_t pid() const { return pid_; }
    pid_t process_group() const { return pid_; }

    // Whether the program itself has exited (reaps it if so).
    bool exited();
    // How it ended, e.g. "exited with status 0", "killed by SIGKILL"; empty while running.
    const std::string& exit_description() const { return exit_description_; }

    // Ends the program and every process of its group: SIGTERM, then SIGKILL after
    // grace; returns once none is left. Idempotent.
    void terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

private:
    LaunchedProgram() = default;
    void reap_group();
    void release_keeper();

    pid_t pid_ = -1;
    pid_t keeper_ = -1;
    int keeper_pipe_ = -1;  // closing it without a word tells the keeper to kill the group
    bool program_reaped_ = false;
    bool terminated_ = false;
    std::string exit_description_;
};

// A program just launched may still be loading its interpreter: tries until it can
// be read and has a thread, the program exits, 30 s pass, or stop is requested.
std::expected<sampler::PythonProcess, std::string> attach_when_python_runs(LaunchedProgram& program,
                                                                           std::stop_token stop);

// How a wait status reads to a person.
std::string describe_wait_status(int status);

}  // namespace pyprofd::daemon
