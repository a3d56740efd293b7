#pragma once
// A program pyprofd starts in order to profile it, and which must never outlive
// the profile, nor must anything it starts. It runs as the child of a keeper of
// its own (daemon/program_keeper): the keeper is the subreaper of the program's
// whole subtree, reaps every orphan in it at once, and ends all of it when told
// to, or when pyprofd dies, even by SIGKILL. The program runs in a process group
// of its own and gets SIGKILL if its keeper dies (PR_SET_PDEATHSIG). terminate()
// (also run by the destructor) ends everything and waits for the keeper to say so.
//
// pyprofd itself stays a subreaper (become_child_subreaper() once at start) so that
// what a keeper leaves, should one be killed, is pyprofd's to reap
// (reap_stray_children()).
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <expected>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/launch_cgroup.hpp"
#include "sampler/descriptor_budget.hpp"
#include "sampler/python_process.hpp"

namespace pyprofd::daemon {

// What a launched program holds in the daemon while it runs, counted against
// sampler::process_descriptor_budget() by the session that launches it: the
// keeper's command and report channels, the output pipe and its reader's eventfd,
// the cgroup's three, one to spare, and its Python process's share once attached
// (PythonProcess::attach_counted_by_caller). Launching opens a few more for a moment (pipes,
// /dev/null), which the daemon's reserve covers.
inline constexpr std::size_t descriptors_per_launched_program = 8 + sampler::descriptors_per_attached_process;

// Makes orphaned descendants of the launched programs ours to reap, so that none
// is left behind as a zombie where PID 1 does not reap (containers).
void become_child_subreaper();

// Reaps the children of pyprofd that no LaunchedProgram waits for: orphans a killed
// keeper left to pyprofd as their subreaper, and keepers given up on.
void reap_stray_children();

// argv[0] as execv needs it: the path of an executable file, looked up on PATH when
// it has no '/'. Resolved in the parent rather than by execvp in the child, where a
// multithreaded parent allows only async-signal-safe calls; the error says why not.
// search_path: the PATH to look on (pyprofd's own if not given).
std::expected<std::string, std::string> resolve_program(const std::string& name,
                                                        std::optional<std::string_view> search_path = std::nullopt);
struct LaunchOptions;
// The program argv0 names, as a launch with these options runs it: on the PATH of
// its environment, relative to its working directory.
std::expected<std::string, std::string> resolve_program(const std::string& argv0, const LaunchOptions& options);

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

// How a program is started.
struct LaunchOptions {
    // As whom it runs; else as pyprofd's user.
    std::optional<RunAs> run_as;
    // The daemon's programs start clean: in a session of their own with no
    // controlling terminal, stdin from /dev/null, stdout and stderr into a pipe of
    // their own (output()), with exactly this environment, in this directory
    // (entered as run_as, so the kernel decides whether that user may). Without it
    // (pyprofd record), the program has pyprofd's terminal, environment (with
    // run_as's HOME, USER and LOGNAME) and directory, in a process group of its own.
    struct CleanStart {
        std::vector<std::string> environment;  // NAME=value
        std::string working_directory = "/";
    };
    std::optional<CleanStart> clean;
    // A cgroup of its own, made in this cgroup v2 directory (LaunchCgroups::parent),
    // for it and all it starts; empty: none.
    std::string cgroup_parent;
};

class LaunchedProgram {
public:
    // Starts argv[0] (looked up on PATH) with argv, as the options say. Fails with a
    // message that says what could not be run and why.
    static std::expected<LaunchedProgram, std::string> launch(const std::vector<std::string>& argv,
                                                              const LaunchOptions& options = {});

    LaunchedProgram(LaunchedProgram&& other) noexcept;
    LaunchedProgram& operator=(LaunchedProgram&&) = delete;
    ~LaunchedProgram();

    pid_t pid() const { return pid_; }
    pid_t process_group() const { return pid_; }
    // The read end of the pipe a clean program's stdout and stderr go to (and those
    // of all it starts; non-blocking); -1 otherwise. Closed with the program.
    int output() const { return output_fd_; }
    // The program's own cgroup, where it has one; empty otherwise.
    std::string cgroup() const { return cgroup_ ? cgroup_->path() : std::string(); }

    // Whether the program itself has exited (its keeper reaped it).
    bool exited();
    // How it ended, e.g. "exited with status 0", "killed by SIGKILL"; empty while running.
    const std::string& exit_description() const { return exit_description_; }

    // Ends the program and every process below it, wherever it went: SIGTERM, then
    // SIGKILL after grace; returns once none is left. Idempotent.
    void terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

private:
    LaunchedProgram() = default;
    // Takes in what the keeper said; with a deadline, waits until it has said all
    // (end of file) or the deadline passes. Whether it has said all.
    bool read_reports(std::optional<std::chrono::steady_clock::time_point> until = std::nullopt);
    void close_pipes();

    pid_t pid_ = -1;
    pid_t keeper_ = -1;
    int command_fd_ = -1;  // to the keeper; closing it without a word ends everything
    int report_fd_ = -1;   // from the keeper
    int output_fd_ = -1;
    std::string report_bytes_;  // a report read in part
    bool program_exited_ = false;
    bool terminated_ = false;
    std::string exit_description_;
    std::optional<ProgramCgroup> cgroup_;
};

// A program just launched may still be loading its interpreter: tries until it can
// be read and has a thread, the program exits, 30 s pass, or stop is requested.
// share: whether the attach takes the process's descriptors or its caller has.
std::expected<sampler::PythonProcess, std::string> attach_when_python_runs(
    LaunchedProgram& program, std::stop_token stop,
    sampler::PythonProcess::DescriptorShare share = sampler::PythonProcess::DescriptorShare::taken);

// How a wait status reads to a person.
std::string describe_wait_status(int status);

}  // namespace pyprofd::daemon
