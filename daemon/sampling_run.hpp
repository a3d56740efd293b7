#pragma once
// One run of sampling, as `pyprofd record` and a daemon session both do it. The
// target is a process attached before, or a program launched here and waited for
// until its Python runs; it is sampled on schedule, the thread stacks that could
// not be read counted sample by sample, until the duration passes, a stop is asked
// or the target ends; then a launched program, and all it started, is ended.
// What is done with each sample, and how the end is told, is the caller's.
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/launched_program.hpp"
#include "daemon/process_tree.hpp"
#include "sampler/python_process.hpp"
#include "sampler/sampling_loop.hpp"

namespace pyprofd::daemon {

struct SamplingRunCallbacks {
    // A sample, and how many of its threads' stacks could not be read; following a
    // tree, which process it is of (null otherwise).
    std::function<void(const sampler::StackSample&, std::uint64_t thread_errors, const ProcessTree::Source* process)>
        on_sample;
    // Following a tree: after a tick in which its processes changed (one found,
    // ended, failed, skipped), other than by their samples' counts.
    std::function<void(const ProcessTree&)> on_processes_changed;
    // Once, when the loop falls behind its schedule.
    std::function<void(const sampler::SamplingStats&)> on_fell_behind;
};

struct SamplingRunEnd {
    sampler::SamplingResult loop;
    // A launched program that had exited by itself when sampling ended, and how
    // ("exited with status 0").
    bool program_exited = false;
    std::string program_exit;
};

class SamplingRun {
public:
    // Of a process attached already.
    explicit SamplingRun(sampler::PythonProcess process);
    // Starts a program as the options say; it is read once wait_for_python() says so.
    static std::expected<SamplingRun, std::string> launch(const std::vector<std::string>& command,
                                                          const LaunchOptions& options = {});

    // A launched program may still be loading its interpreter: waits until its
    // Python can be read (attach_when_python_runs). When it cannot, the program has
    // been ended and the error says why.
    // share: as attach_when_python_runs'.
    std::expected<void, std::string> wait_for_python(
        std::stop_token stop,
        sampler::PythonProcess::DescriptorShare share = sampler::PythonProcess::DescriptorShare::taken);

    // The target; for a launched program, once wait_for_python() succeeded.
    sampler::PythonProcess& process() { return *process_; }
    // The launched program; null for a process attached before.
    LaunchedProgram* program() { return program_ ? &*program_ : nullptr; }

    // From now on the target's descendant Python processes are sampled too (see
    // process_tree.hpp); once the target is known (wait_for_python()).
    void follow_descendants(ProcessTree::AttachProcess attach, ProcessTree::MayProfile may_profile,
                            ProcessTreeOptions options);
    // The tree followed, if follow_descendants() was asked.
    const ProcessTree* tree() const { return tree_ ? &*tree_ : nullptr; }

    // Samples the target (and its descendants when following them) until the
    // schedule's duration passes, stop is requested or the target ends, then ends a
    // launched program.
    SamplingRunEnd sample(const sampler::SamplingSchedule& schedule, const sampler::SampleOptions& options,
                          const SamplingRunCallbacks& callbacks, std::stop_token stop);

private:
    SamplingRun() = default;

    std::optional<LaunchedProgram> program_;
    std::optional<sampler::PythonProcess> process_;
    std::optional<ProcessTree> tree_;
};

}  // namespace pyprofd::daemon
