#pragma once
// A target and its descendant Python processes, sampled together: a session or
// `record` with `subprocesses` follows a worker tree (a gunicorn or uWSGI master's
// workers, a multiprocessing pool, a fork that never execs), finding the
// descendants at start and every look_every after (so workers recycled under
// --max-requests are followed too), attaching each new one once.
//
// Each descendant is pinned by its PID and start time: a PID that is freed and
// reused names another process, which is looked at afresh. It must pass the same
// check as the root target (may_profile: the caller's right to it), before it is
// attached and again once it is pinned; one refused is counted, never sampled. A
// descendant that runs no Python is passed over silently (and looked at again if
// it execs); one that is Python but cannot be attached or read is counted as failed
// and listed with its error. At most max_processes are followed at once, the root
// included: past that, descendants are counted and left alone, so a fork bomb
// costs the daemon no more than that many processes' samples. So are, apart, those
// found while the daemon's descriptors for attached processes are all taken
// (sampler::process_descriptor_budget()); both are tried again at later looks.
//
// Every tick samples each process once: the rate is per process. A descendant that
// exits keeps its samples; the root's end ends the run.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/sampled_process.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sampling_loop.hpp"  // unresponsive_samples_limit
#include "sampler/sampling_loop.hpp"

namespace pyprofd::daemon {

struct ProcessTreeOptions {
    std::size_t max_processes = 64;  // followed at once, the root included
    std::chrono::milliseconds look_every{100};
    bool blocking = false;  // a descendant another tracer holds cannot be paused: failed, not sampled
};

class ProcessTree {
public:
    using AttachProcess = std::function<sampler::Result<sampler::PythonProcess>(pid_t)>;
    // Whether the caller may profile this process; the error says why not. Null: the
    // kernel alone decides (the command line, which runs as its user).
    using MayProfile = std::function<std::expected<void, std::string>(pid_t)>;

    // The root is given to each call, not kept: whoever owns it may move it.
    ProcessTree(const sampler::PythonProcess& root, AttachProcess attach, MayProfile may_profile,
                ProcessTreeOptions options);

    // Where a sample came from: its process's place in processes(), and the root
    // frame its stacks go under, "process PID (command line)".
    struct Source {
        std::size_t index;
        const std::string& root_label;
    };
    using OnSample = std::function<void(const sampler::StackSample&, std::uint64_t thread_errors, const Source&)>;

    // One tick of the schedule: looks for new descendants when due, then samples
    // the root and every descendant followed. Ends when the root does.
    sampler::TickOutcome tick(sampler::PythonProcess& root, const sampler::SampleOptions& options,
                              const OnSample& on_sample);
    // Looks for new descendants of root now.
    void look_for_descendants(pid_t root);
    // Sampling has ended: lets every descendant go, and says so in its record.
    void finish();

    // The root first, then the descendants as they were found; at most max_listed
    // (the oldest that ended make room for new ones).
    const std::vector<SampledProcess>& processes() const { return records_; }
    const SkippedProcesses& skipped() const { return skipped_; }
    // Changes whenever processes() (other than a sample count) or skipped() do.
    std::uint64_t changes() const { return changes_; }
    std::size_t followed() const { return followed_.size() + 1; }

    static constexpr std::size_t max_listed = 256;
    // Descendants looked at per look, at most: the walk of a fork bomb stays bounded.
    static constexpr std::size_t max_descendants_looked_at = 4096;
    // Looks a descendant that is Python but cannot be read yet (an interpreter still
    // starting) gets before it counts as failed.
    static constexpr int attach_attempts = 5;
    // Blocking: a descendant whose threads would not stop is let go after
    // sampler::unresponsive_samples_limit samples in a row and at least this long
    // (and the root ends the session). A worker on its way out (a gunicorn worker
    // recycled) cannot be stopped while it exits, nor a master while it forks and
    // reaps them at every request, for longer on a loaded host than the samples
    // alone would wait.
    static constexpr std::chrono::seconds unresponsive_time_limit{2};

private:
    // A process's blocking samples that failed in a row, their threads not stopping.
    struct UnresponsiveStreak {
        std::uint64_t samples = 0;
        std::chrono::steady_clock::time_point since{};
        // Counts this sample's outcome: a failed one lengthens the streak, any other ends it.
        void count(const sampler::Result<sampler::StackSample>& sample, std::chrono::steady_clock::time_point now) {
            bool unresponsive = !sample && sample.error().kind == sampler::ErrorKind::target_unresponsive;
            if (unresponsive && samples == 0) since = now;
            samples = unresponsive ? samples + 1 : 0;
        }
        // Whether it is time to give the process up.
        bool exhausted(std::chrono::steady_clock::time_point now) const {
            return samples >= sampler::unresponsive_samples_limit && now - since >= unresponsive_time_limit;
        }
    };
    struct Followed {
        sampler::PythonProcess process;
        std::size_t record;
        std::string label;
        UnresponsiveStreak unresponsive;
    };
    struct Key {
        pid_t pid;
        std::uint64_t start_time;
        auto operator<=>(const Key&) const = default;
    };
    struct Known {
        enum class Status { trying, followed, not_python, not_permitted, failed } status = Status::trying;
        std::string executable;  // for not_python: looked at again if it changes (exec)
        int attempts = 0;
        bool counted_over_limit = false;
        bool counted_out_of_descriptors = false;
        std::uint64_t seen = 0;  // the last look that found it
    };

    void try_to_follow(pid_t pid, pid_t parent, const Key& key, Known& known);
    void add_failed(pid_t pid, pid_t parent, std::string error);
    std::size_t add_record(SampledProcess record);
    // Ends a descendant's following; its record says how.
    void stop_following(std::size_t followed_index, SampledProcessState state, std::string error = {});

    AttachProcess attach_;
    MayProfile may_profile_;
    ProcessTreeOptions options_;
    std::string root_label_;
    UnresponsiveStreak root_unresponsive_;
    std::vector<Followed> followed_;
    std::map<Key, Known> known_;
    std::vector<SampledProcess> records_;
    SkippedProcesses skipped_;
    std::uint64_t changes_ = 0;
    std::uint64_t looks_ = 0;
    std::chrono::steady_clock::time_point next_look_{};
    bool said_over_limit_ = false;
};

}  // namespace pyprofd::daemon
