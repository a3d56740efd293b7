#pragma once
// The daemon's sessions: it starts them (within the configured limits), finds,
// stops and removes them, saves every running one's results every few seconds and
// each one's final results, reloads them all at start (a session that was running
// when the daemon died comes back as `interrupted`, with its last checkpoint), and
// keeps the state directory within the retention limits. The HTTP API calls it;
// it decides.
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/daemon_config.hpp"
#include "daemon/session.hpp"
#include "daemon/session_info.hpp"
#include "daemon/session_store.hpp"
#include "daemon/access_policy.hpp"
#include "daemon/caller.hpp"
#include "daemon/error.hpp"
#include "daemon/python_process_list.hpp"

namespace pyprofd::daemon {

// Which of the sessions a list shows: newest first, in one state or all, a page at a time.
struct SessionFilter {
    std::optional<SessionState> state;  // only sessions in this state; none: all
    std::size_t offset = 0;             // skipped first
    std::optional<std::size_t> limit;   // at most this many; none: all
};

struct SessionPage {
    std::vector<SessionInfo> sessions;  // newest first
    std::size_t total = 0;              // that the state matches, before offset and limit
};

// A running process's stacks now: the process as attached (its version, command
// line) and one sample of its threads.
struct ProcessStacks {
    sampler::PythonProcess process;
    sampler::StackSample sample;
};

struct SessionCounts {
    std::map<SessionState, std::size_t> by_state;
    std::uint64_t samples = 0;
    std::uint64_t errors = 0;
    double max_lag_ms = 0;
};

// What one profile may hold under these limits (limits.max_profile_*): the
// daemon's sessions, and the command line's with the defaults.
render::ProfileLimits profile_limits_of(const config::Limits& limits);

class SessionManager {
public:
    // How a running process is attached: sampler::PythonProcess::attach; the unit
    // tests give a CPython built by hand (tests/support/fake_cpython).
    using AttachProcess = std::function<sampler::Result<sampler::PythonProcess>(pid_t)>;

    // Reloads the sessions of the store; problems with its files are logged and skipped.
    SessionManager(const config::DaemonConfig& config, SessionStore store, AccessPolicy policy,
                   AttachProcess attach_process = &sampler::PythonProcess::attach);
    SessionManager(const SessionManager&) = delete;
    SessionManager& operator=(const SessionManager&) = delete;
    ~SessionManager();  // shutdown()

    // Every call acts for a caller: it sees and touches only its own sessions (an
    // admin, all of them); another's answers not_found, so its existence does not leak.
    Result<SessionInfo> start(SessionSpec spec, const Caller& caller);
    SessionPage list(const Caller& caller, const SessionFilter& filter = {}) const;
    Result<SessionInfo> get(const std::string& id, const Caller& caller) const;
    // Asks a running session to stop and waits a moment for it to end: what it
    // answers is the session as it ended, or still running if it takes longer (it
    // ends in the background).
    Result<SessionInfo> stop(const std::string& id, const Caller& caller);
    Result<void> remove(const std::string& id, const Caller& caller);
    Result<std::pair<SessionInfo, std::shared_ptr<const render::Profile>>> profile(
        const std::string& id, const Caller& caller) const;
    // What a launched program wrote to stdout and stderr, the last of it kept (also
    // after a restart, as last saved).
    Result<std::string> output(const std::string& id, const Caller& caller) const;
    // Every session's counts, whoever's: figures for /metrics.
    SessionCounts counts() const;
    // A running process's stacks, if the rules let this caller read that process.
    Result<ProcessStacks> process_stacks(pid_t pid, const Caller& caller) const;
    // The Python processes on this host the rules let this caller profile, found
    // without attaching to any (daemon/python_process_list).
    PythonProcessList python_processes(const Caller& caller) const;

    const AccessPolicy& access() const { return policy_; }

    // Ends every running session as `stopped`, saves them, and stops checkpointing.
    void shutdown();

    const config::DaemonConfig& config() const { return config_; }
    // What each session's profile may hold (limits.max_profile_*).
    render::ProfileLimits profile_limits() const;

private:
    // A running process, attached for this caller if the rules let it read that
    // process (for sessions and for the stacks alike).
    Result<sampler::PythonProcess> attach(pid_t pid, const Caller& caller) const;
    // The spec's fields and the caller's right to its target; for a command, how it is launched.
    Result<std::optional<LaunchOptions>> check(const SessionSpec& spec, const Caller& caller) const;
    Result<void> check_target(pid_t pid, const Caller& caller) const;
    std::vector<SessionInfo> all_sessions() const;
    // The running blocking session of this process, if one is; with mutex_ held.
    std::optional<std::string> blocking_session_of(pid_t pid) const;
    // The session if the caller may see it.
    std::shared_ptr<Session> find(const std::string& id, const Caller& caller) const;
    void session_ended(Session& session);
    void checkpoint_running();
    // Saves a launched program's output so far; with checkpoint_mutex_ held.
    void save_output(const Session& session) const;
    // Removes the oldest finished sessions beyond the retention limits, but never `keep`.
    void apply_retention(const std::string& keep = {});
    void bury_removed();
    void checkpoint_loop(std::stop_token stop);

    const config::DaemonConfig config_;
    const SessionStore store_;
    const AccessPolicy policy_;
    const AttachProcess attach_process_;
    // What the interpreters' files said, for python_processes: its own leaf lock.
    mutable sampler::PythonProcessScan process_scan_;
    LaunchCgroups launch_cgroups_;  // where launched programs get a cgroup each, if anywhere
    // The threads that call in: the io threads (every public call), the checkpoint
    // thread (checkpoint_loop), session threads (session_ended, at their end) and
    // the shutdown. Lock order (DESIGN.md, "Threads and locks"): mutex_ or
    // checkpoint_mutex_, never both, then a session's own mutex_; never the other
    // way round, and no session thread is joined under either.
    //
    // mutex_ guards sessions_, removed_ and shutting_down_.
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Session>> sessions_;
    // Sessions that retention removed, destroyed later on the checkpoint thread: a
    // session's thread may be the one removing another, and two such must not join
    // each other.
    struct Removed {
        std::shared_ptr<Session> session;
        bool delete_files;  // deleted while running: its files go once its thread is done
    };
    std::vector<Removed> removed_;
    bool shutting_down_ = false;
    std::condition_variable_any wake_;
    // checkpoint_mutex_ guards checkpoints_ and orders every save of a session's files
    // (checkpoint, final save, deletion), so a checkpoint never lands after a final
    // save or a removal. A session's snapshot is taken under it: that may wait a
    // bounded time for the session's thread, which takes this lock only at its end.
    std::mutex checkpoint_mutex_;
    // Running sessions' profiles on disk, appended to by each checkpoint; under
    // checkpoint_mutex_. A session's entry goes at its final save or removal.
    std::map<std::string, ProfileCheckpoint> checkpoints_;
    std::jthread checkpointer_;
};

}  // namespace pyprofd::daemon
