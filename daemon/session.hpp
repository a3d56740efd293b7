#pragma once
// One sampling session: its own thread samples the target (a process attached
// before the session was accepted, or a program it launches and always ends) at
// the spec's rate until the duration passes, it is stopped, or the target exits.
// Its record and profile can be read at any time: while it runs, as a snapshot
// that the session's own thread copies between two samples when a reader asks for
// one, and publishes immutable; readers share it and never copy the profile under
// the lock the sampler takes every sample.
//
// A session read back from the state directory after a restart has no thread; its
// profile is loaded from disk when first asked for.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "daemon/launched_program.hpp"
#include "daemon/program_output.hpp"
#include "daemon/sample_aggregator.hpp"
#include "daemon/sampling_run.hpp"
#include "daemon/session_info.hpp"
#include "render/profile.hpp"
#include "sampler/descriptor_budget.hpp"
#include "sampler/python_process.hpp"

namespace pyprofd::daemon {

// How a session with subprocesses follows its target's descendants: how each is
// attached, whether its caller may profile it, and the tree's bounds.
struct DescendantFollowing {
    ProcessTree::AttachProcess attach;
    ProcessTree::MayProfile may_profile;
    ProcessTreeOptions options;
};

class Session {
public:
    using ProfileLoader = std::function<std::shared_ptr<const render::Profile>()>;
    using EndHandler = std::function<void(Session&)>;

    // Starts sampling into a profile with these limits. on_end runs on the session's
    // thread once the record is final. Without a process, it launches the spec's
    // command as launch says; launch_descriptors, what the program's pipes and cgroup
    // take of sampler::process_descriptor_budget(), is given back when sampling ends.
    Session(SessionInfo info, std::optional<sampler::PythonProcess> process, LaunchOptions launch, EndHandler on_end,
            render::ProfileLimits limits = {}, DescendantFollowing following = {},
            sampler::DescriptorGrant launch_descriptors = {});
    // A finished session from disk.
    Session(SessionInfo info, ProfileLoader loader);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();  // stops and joins a running session

    const std::string& id() const { return id_; }
    const std::string& owner() const { return owner_; }
    SessionInfo info() const;
    // The record and its samples at one moment: while it runs, the profile so far as
    // last published (at most snapshot_max_age old, or nothing sampled since; asking
    // the session's thread for a newer one waits at most snapshot_wait_limit), the
    // final profile after.
    std::pair<SessionInfo, std::shared_ptr<const render::Profile>> snapshot() const;
    static constexpr auto snapshot_max_age = std::chrono::milliseconds(250);
    // Two sample periods and a little, within bounds: a request never waits long,
    // however slow the rate or the sample.
    static std::chrono::milliseconds snapshot_wait_limit(double rate_hz);

    // What the last attempt to save it said: empty once saved.
    void set_save_error(std::string error);
    // Running, or finished but not saved yet: what a checkpoint saves.
    bool due_for_saving() const;

    // The last of a launched program's stdout and stderr; null for a session of a
    // running process (or one read back from disk).
    std::shared_ptr<const OutputTail> output() const { return output_; }

    void request_stop();
    void join();
    bool running() const;
    // Waits at most `limit` for a session asked to stop to have ended and been
    // saved; whether it has. HTTP handlers wait this way, never unbounded.
    bool wait_ended(std::chrono::milliseconds limit) const;
    // A session deleted while it runs: its end is not saved.
    void mark_removed() { removed_ = true; }
    bool removed() const { return removed_; }

    // The configuration key of the limit a profile reached.
    static std::string limit_key(render::ProfileCap cap);

    // How the session's thread ends it: its state, the failure (if any), and whether
    // the process replaced its program (exec), which is logged.
    struct Ending {
        SessionState state;
        std::string failure;
        bool replaced = false;
    };

private:
    // The session's thread: the target, its sampling, and the end.
    void run(std::stop_token stop);
    // Launches the spec's program and waits for its Python; how the session ends
    // when that fails.
    std::optional<Ending> launch_program(const SessionSpec& spec, std::stop_token stop, std::optional<SamplingRun>& run,
                                         std::optional<OutputReader>& output);
    // Samples the run's target into the profile until it ends; how the session ends.
    Ending sample(SamplingRun& run, const SessionSpec& spec, std::chrono::steady_clock::time_point started,
                  std::stop_token stop);
    // With mutex_ held.
    void log_truncation() const;
    // The tree's processes into the record, and what is worth a log line.
    void record_processes(const ProcessTree& tree);
    void record_stats(const sampler::SamplingStats& stats);
    // Makes the record final, saves it through on_end, and lets waiters know.
    void finish(SessionState state, std::string failure, std::chrono::steady_clock::time_point started);
    // The record with what the profile so far says; with mutex_ held.
    SessionInfo current_info() const;
    // On the session's thread, between samples: if a reader asked, copies the profile
    // (outside mutex_: no other thread changes it) and publishes the copy.
    void publish_snapshot_if_wanted();

    const std::string id_;
    const std::string owner_;
    // Guards the record, the profile's changes, the snapshots and thread_done_. The
    // session's thread takes it once per sample, to add the sample; readers take it
    // briefly and never copy the profile under it. Taken after the manager's locks,
    // never before them (see DESIGN.md, "Threads and locks").
    mutable std::mutex mutex_;
    SessionInfo info_;
    // A root per thread, always: every format can be made from it. Changed only by
    // the session's thread, under mutex_; that thread reads it without the lock.
    render::Profile profile_;
    std::optional<SampleAggregator> aggregator_;  // into profile_, while sampling
    mutable std::shared_ptr<const render::Profile> final_profile_;  // set at the end, or when first loaded
    // A running session's profile as its thread last published it, and the record as
    // it was then; kept until the session ends (readers share it). Under mutex_.
    std::shared_ptr<const render::Profile> published_;
    SessionInfo published_info_;
    std::chrono::steady_clock::time_point published_at_;
    std::uint64_t publications_ = 0;  // by the session's thread: the empty one it starts with is not one
    mutable bool snapshot_wanted_ = false;  // a reader waits for a newer one
    mutable std::condition_variable snapshot_published_;  // a snapshot was published, or the final profile set
    ProfileLoader loader_;
    std::optional<sampler::PythonProcess> process_;
    LaunchOptions launch_;
    sampler::DescriptorGrant launch_descriptors_;  // taken over by the session's thread
    DescendantFollowing following_;  // used when the spec asks for subprocesses
    std::shared_ptr<OutputTail> output_;
    EndHandler on_end_;
    std::atomic<bool> removed_ = false;
    mutable std::condition_variable ended_;
    bool thread_done_ = false;  // under mutex_: the end handler has run
    std::jthread thread_;  // last: it stops and joins before the rest is destroyed
};

}  // namespace pyprofd::daemon
