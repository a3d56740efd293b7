#include "daemon/sampling_run.hpp"

namespace pyprofd::daemon {

SamplingRun::SamplingRun(sampler::PythonProcess process) : process_(std::move(process)) {}

std::expected<SamplingRun, std::string> SamplingRun::launch(const std::vector<std::string>& command,
                                                            const LaunchOptions& options) {
    auto launched = LaunchedProgram::launch(command, options);
    if (!launched) return std::unexpected(launched.error());
    SamplingRun run;
    run.program_.emplace(std::move(*launched));
    return run;
}

std::expected<void, std::string> SamplingRun::wait_for_python(std::stop_token stop,
                                                              sampler::PythonProcess::DescriptorShare share) {
    auto attached = attach_when_python_runs(*program_, stop, share);
    if (!attached) {
        program_->terminate();
        return std::unexpected(attached.error());
    }
    process_.emplace(std::move(*attached));
    return {};
}

void SamplingRun::follow_descendants(ProcessTree::AttachProcess attach, ProcessTree::MayProfile may_profile,
                                     ProcessTreeOptions options) {
    tree_.emplace(*process_, std::move(attach), std::move(may_profile), options);
}

SamplingRunEnd SamplingRun::sample(const sampler::SamplingSchedule& asked, const sampler::SampleOptions& options,
                                   const SamplingRunCallbacks& callbacks, std::stop_token stop) {
    SamplingRunEnd end;
    const auto schedule = sampler::schedule_for(asked, options);
    if (tree_) {
        std::uint64_t changes_told = ~0ULL;
        auto tick = [&] {
            auto outcome = tree_->tick(*process_, options, [&](const sampler::StackSample& sample, std::uint64_t errors,
                                                    const ProcessTree::Source& source) {
                if (callbacks.on_sample) callbacks.on_sample(sample, errors, &source);
            });
            if (tree_->changes() != changes_told) {
                changes_told = tree_->changes();
                if (callbacks.on_processes_changed) callbacks.on_processes_changed(*tree_);
            }
            return outcome;
        };
        end.loop = sampler::run_sampling_schedule(schedule, tick, callbacks.on_fell_behind, stop);
        tree_->finish();
        if (callbacks.on_processes_changed) callbacks.on_processes_changed(*tree_);
    } else {
        sampler::SamplingCallbacks loop_callbacks{
            .on_sample =
                [&](const sampler::StackSample& sample) {
                    std::uint64_t errors = 0;
                    for (const auto& t : sample.threads) errors += t.error.has_value();
                    if (callbacks.on_sample) callbacks.on_sample(sample, errors, nullptr);
                },
            .on_fell_behind = callbacks.on_fell_behind,
        };
        end.loop = sampler::run_sampling_loop(*process_, schedule, options, loop_callbacks, stop);
    }
    if (program_) {
        // Its keeper may not have said so yet when the loop saw the process go.
        end.program_exited = program_->exited() || end.loop.end == sampler::SamplingEnd::target_exited;
        program_->terminate();  // reads the keeper's reports to their end: how it exited too
        end.program_exit = program_->exit_description();
    }
    return end;
}

}  // namespace pyprofd::daemon
