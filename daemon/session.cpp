#include "daemon/session.hpp"

#include <sys/prctl.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <new>
#include <stop_token>

#include "daemon/launched_program.hpp"

namespace pyprofd::daemon {

Session::Session(SessionInfo info, std::optional<sampler::PythonProcess> process, LaunchOptions launch, EndHandler on_end,
                 render::ProfileLimits limits, DescendantFollowing following, sampler::DescriptorGrant launch_descriptors)
    : id_(info.id), owner_(info.owner), info_(std::move(info)), profile_(limits),
      published_(std::make_shared<const render::Profile>(limits)), published_info_(info_),
      published_at_(std::chrono::steady_clock::now()), process_(std::move(process)), launch_(std::move(launch)),
      launch_descriptors_(std::move(launch_descriptors)), following_(std::move(following)), on_end_(std::move(on_end)) {
    if (!process_ && launch_.clean) output_ = std::make_shared<OutputTail>();
    thread_ = std::jthread([this](std::stop_token stop) {
        ::prctl(PR_SET_NAME, "pyprofd-session", 0, 0, 0);
        // Whatever goes wrong in one session (an allocation that fails, say) ends that
        // session, never the daemon.
        try {
            run(stop);
        } catch (const std::exception& e) {
            spdlog::error("session={} ended by an error: {}", id_, e.what());
            {
                std::lock_guard lock(mutex_);
                if (info_.state == SessionState::running) {
                    info_.state = SessionState::failed;
                    info_.failure = std::string("ended by an error: ") + e.what();
                    info_.ended = WallClock::now();
                }
                if (!final_profile_) {  // what it holds is what readers get from now on
                    aggregator_.reset();
                    try {
                        final_profile_ = std::make_shared<const render::Profile>(std::move(profile_));
                    } catch (const std::bad_alloc&) {
                        final_profile_ = published_;
                    }
                }
                thread_done_ = true;
            }
            snapshot_published_.notify_all();
            ended_.notify_all();
        }
        // Readers have the final profile now.
        std::shared_ptr<const render::Profile> published;
        std::lock_guard lock(mutex_);
        published.swap(published_);
    });
}

std::string Session::limit_key(render::ProfileCap cap) {
    switch (cap) {
        case render::ProfileCap::stacks: return "limits.max_profile_stacks";
        case render::ProfileCap::frames: return "limits.max_profile_frames";
        case render::ProfileCap::label_bytes: return "limits.max_profile_label_mb";
        case render::ProfileCap::none: break;
    }
    return {};
}

SessionInfo Session::current_info() const {
    auto info = info_;
    if (aggregator_) {
        info.threads = aggregator_->threads_seen();
        info.truncated_samples = profile_.truncated_samples();
        info.truncated_by = limit_key(profile_.cap_reached());
    }
    return info;
}

Session::Session(SessionInfo info, ProfileLoader loader) : id_(info.id), owner_(info.owner), info_(std::move(info)), loader_(std::move(loader)) {}

Session::~Session() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

SessionInfo Session::info() const {
    std::lock_guard lock(mutex_);
    return current_info();
}

std::chrono::milliseconds Session::snapshot_wait_limit(double rate_hz) {
    auto periods = std::chrono::duration<double, std::milli>(2000.0 / std::max(rate_hz, 1.0));
    return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(periods) + std::chrono::milliseconds(50),
                      std::chrono::milliseconds(100), std::chrono::milliseconds(2100));
}

std::pair<SessionInfo, std::shared_ptr<const render::Profile>> Session::snapshot() const {
    std::unique_lock lock(mutex_);
    if (final_profile_) return {info_, final_profile_};
    if (loader_) {
        auto loader = loader_;
        lock.unlock();
        // Loaded outside the lock (it reads a file); two first readers may both load.
        auto loaded = loader();
        lock.lock();
        if (!final_profile_) final_profile_ = std::move(loaded);
        return {info_, final_profile_};
    }
    // Not sampling yet (a launched program on its way): the profile is still empty.
    if (!aggregator_) return {current_info(), published_};
    // Readers at about the same moment share one snapshot: a large profile is copied
    // at most every snapshot_max_age, however many ask.
    bool fresh = published_info_.samples == info_.samples ||
                 (publications_ > 0 && std::chrono::steady_clock::now() - published_at_ <= snapshot_max_age);
    if (!fresh) {
        snapshot_wanted_ = true;
        auto seen = publications_;
        // On time out (a sample that takes long), the last one published.
        snapshot_published_.wait_for(lock, snapshot_wait_limit(info_.spec.rate_hz),
                                     [&] { return publications_ != seen || final_profile_; });
        if (final_profile_) return {info_, final_profile_};
    }
    return {published_info_, published_};
}

void Session::publish_snapshot_if_wanted() {
    SessionInfo info;
    {
        std::lock_guard lock(mutex_);
        if (!snapshot_wanted_) return;
        info = current_info();
    }
    // The flag stays set while the profile is copied: a reader that asks meanwhile
    // finds the last snapshot still old and waits for this one, and must not leave a
    // wish behind that would copy again at the next tick.
    std::shared_ptr<const render::Profile> snapshot;
    try {
        snapshot = std::make_shared<const render::Profile>(profile_);
    } catch (const std::bad_alloc&) {
        // Readers keep the last one; sampling goes on (it stops where adding fails).
        spdlog::warn("session={} no memory for a snapshot of its profile: readers get an older one", id_);
        std::lock_guard lock(mutex_);
        snapshot_wanted_ = false;
        return;
    }
    {
        std::lock_guard lock(mutex_);
        snapshot_wanted_ = false;
        published_.swap(snapshot);
        published_info_ = std::move(info);
        published_at_ = std::chrono::steady_clock::now();
        ++publications_;
    }
    snapshot_published_.notify_all();
}  // the snapshot before, unless a reader still has it, is freed here, outside the lock

void Session::set_save_error(std::string error) {
    std::lock_guard lock(mutex_);
    info_.save_error = std::move(error);
}

bool Session::due_for_saving() const {
    std::lock_guard lock(mutex_);
    return info_.state == SessionState::running || !info_.save_error.empty();
}

void Session::request_stop() { thread_.request_stop(); }

void Session::join() {
    if (thread_.joinable()) thread_.join();
}

bool Session::wait_ended(std::chrono::milliseconds limit) const {
    std::unique_lock lock(mutex_);
    if (!thread_.joinable()) return true;  // read from disk: never ran here
    return ended_.wait_for(lock, limit, [&] { return thread_done_; });
}

bool Session::running() const {
    std::lock_guard lock(mutex_);
    return info_.state == SessionState::running;
}

namespace {

// How long a launched program's output may take to end once it and all it started are gone.
constexpr auto output_end_limit = std::chrono::milliseconds(500);

// How a session ends after sampling ended this way.
Session::Ending ending_of(const SamplingRunEnd& end) {
    switch (end.loop.end) {
        case sampler::SamplingEnd::duration_reached: return {SessionState::completed};
        case sampler::SamplingEnd::stopped:
            return {end.program_exited ? SessionState::target_exited : SessionState::stopped};
        case sampler::SamplingEnd::target_exited: return {SessionState::target_exited};
        case sampler::SamplingEnd::unresponsive:
            return {SessionState::failed,
                    fmt::format("blocking sampling gave up: {}; sample it without blocking", end.loop.failure)};
        case sampler::SamplingEnd::target_replaced: return {SessionState::target_exited, {}, true};
    }
    return {SessionState::failed, "sampling ended for no known reason"};
}

}  // namespace

void Session::run(std::stop_token stop) {
    const auto started = std::chrono::steady_clock::now();
    // Given back once the program's descriptors are closed (or by an error).
    auto launch_descriptors = std::move(launch_descriptors_);
    SessionSpec spec;
    {
        std::lock_guard lock(mutex_);
        spec = info_.spec;
    }
    std::optional<SamplingRun> run;
    std::optional<OutputReader> output;  // after run: it stops reading before the program's pipe closes
    std::optional<Ending> ending;
    if (process_) {
        run.emplace(std::move(*process_));
        process_.reset();
    } else {
        ending = launch_program(spec, stop, run, output);
    }
    if (!ending) ending = sample(*run, spec, started, stop);
    if (output) output->finish(output_end_limit);
    // What it attached (a pidfd, a descriptor per thread's /proc file) goes now,
    // not when the session is deleted; the output reader first, then the pipe.
    output.reset();
    run.reset();
    launch_descriptors = {};  // before the final save, which may take a while
    if (ending->replaced) spdlog::info("session={} process {} replaced its program (exec)", id_, info().target_pid);
    finish(ending->state, std::move(ending->failure), started);
}

std::optional<Session::Ending> Session::launch_program(const SessionSpec& spec, std::stop_token stop,
                                                       std::optional<SamplingRun>& run,
                                                       std::optional<OutputReader>& output) {
    auto launched = SamplingRun::launch(spec.command, launch_);
    if (!launched) return Ending{SessionState::failed, launched.error()};
    run.emplace(std::move(*launched));
    auto& program = *run->program();
    if (output_ && program.output() >= 0) output.emplace(program.output(), output_);
    {
        std::lock_guard lock(mutex_);
        info_.target_pid = program.pid();
    }
    spdlog::info("session={} launched {} as process {} (user {}){}", id_, spec.command.front(), program.pid(),
                 launch_.run_as ? launch_.run_as->name : "pyprofd's",
                 program.cgroup().empty() ? "" : ", in cgroup " + program.cgroup());
    // This session took the program's Python process's descriptors with the program's.
    if (auto attached = run->wait_for_python(stop, sampler::PythonProcess::DescriptorShare::counted_by_caller);
        !attached) {
        auto failure = attached.error();
        if (output) {
            // What it said before it died is most often why.
            output->finish(output_end_limit);
            if (auto said = output_->last_lines(2048); !said.empty()) failure += "; its output ended with:\n" + said;
        }
        return Ending{stop.stop_requested() ? SessionState::stopped : SessionState::failed, std::move(failure)};
    }
    std::lock_guard lock(mutex_);
    info_.target_command_line = run->process().command_line();
    info_.python_version = run->process().version().to_string();
    info_.working_directory = run->process().working_directory();
    info_.standard_library = run->process().standard_library();
    return std::nullopt;
}

Session::Ending Session::sample(SamplingRun& run, const SessionSpec& spec,
                                std::chrono::steady_clock::time_point started, std::stop_token stop) {
    // A root per thread always: speedscope and pprof need them; graphs merge them
    // unless the spec asked to see threads.
    auto aggregation = spec.aggregation;
    aggregation.per_thread = true;
    const auto sampling_started = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        aggregator_.emplace(profile_, aggregation);
    }
    if (spec.subprocesses) {
        auto attach = following_.attach ? following_.attach : &sampler::PythonProcess::attach;
        auto options = following_.options;
        options.blocking = spec.blocking;
        run.follow_descendants(std::move(attach), following_.may_profile, options);
    }
    // The loop stops on the session's own stop, or when the profile cannot grow.
    std::stop_source loop_stop;
    std::stop_callback forward_stop(stop, [&] { loop_stop.request_stop(); });
    bool out_of_memory = false;
    bool truncation_logged = false;
    SamplingRunCallbacks callbacks{
        .on_sample =
            [&](const sampler::StackSample& sample, std::uint64_t thread_errors, const ProcessTree::Source* process) {
                std::unique_lock lock(mutex_);
                if (out_of_memory) return;
                try {
                    aggregator_->add(sample, process ? std::string_view(process->root_label) : std::string_view());
                } catch (const std::bad_alloc&) {
                    // The profile keeps what it held; this session ends, the daemon goes on.
                    out_of_memory = true;
                    loop_stop.request_stop();
                    return;
                }
                if (!truncation_logged && profile_.truncated_samples() > 0) {
                    truncation_logged = true;
                    log_truncation();
                }
                // A tick of a tree is one sample of the session, however many processes it read.
                if (!process || process->index == 0) ++info_.samples;
                if (process && process->index < info_.processes.size()) ++info_.processes[process->index].samples;
                info_.thread_errors += thread_errors;
                auto now = std::chrono::steady_clock::now();
                info_.elapsed_s = std::chrono::duration<double>(now - started).count();
                // Progress while it runs: the ticks due so far, by this clock (the loop
                // counts them exactly at the end), never fewer than were taken.
                auto due = static_cast<std::uint64_t>(std::chrono::duration<double>(now - sampling_started).count() *
                                                      spec.rate_hz) + 1;
                info_.samples_expected = std::max(due, info_.samples);
                lock.unlock();
                publish_snapshot_if_wanted();
            },
        .on_processes_changed = [&](const ProcessTree& tree) { record_processes(tree); },
        .on_fell_behind =
            [&](const sampler::SamplingStats&) {
                spdlog::warn("session={} cannot keep up with {} Hz; sampling goes on as fast as it can", id_,
                             spec.rate_hz);
            },
    };
    std::optional<std::chrono::nanoseconds> duration;
    if (spec.duration_s)
        duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(*spec.duration_s));
    auto end = run.sample({.rate_hz = spec.rate_hz, .duration = duration}, {.pause_threads = spec.blocking}, callbacks,
                          loop_stop.get_token());
    record_stats(end.loop.stats);
    {
        std::lock_guard lock(mutex_);
        info_.sampling_priority = sampler::to_string(end.loop.priority.state);
        info_.sampling_priority_why = end.loop.priority.why;
    }
    if (end.loop.priority.state == sampler::SamplingPriorityState::lowered)
        spdlog::warn("session={} sampled in the normal scheduling class after a while: {}", id_, end.loop.priority.why);
    if (out_of_memory)
        return {SessionState::failed, "out of memory while adding samples to its profile; the samples so far are kept "
                                      "(lower limits.max_profile_* to keep sessions smaller)"};
    return ending_of(end);
}

void Session::record_processes(const ProcessTree& tree) {
    SkippedProcesses before;
    {
        std::lock_guard lock(mutex_);
        before = info_.skipped_processes;
        info_.processes = tree.processes();
        info_.skipped_processes = tree.skipped();
    }
    const auto& now = tree.skipped();
    if (now.over_limit > 0 && before.over_limit == 0)
        spdlog::warn("session={} follows {} processes, the most allowed (limits.max_session_processes): more "
                     "descendants are counted, not sampled",
                     id_, tree.followed());
    if (now.out_of_descriptors > before.out_of_descriptors)
        spdlog::warn("session={} {} descendant process(es) not followed: {}; tried again at each look", id_,
                     now.out_of_descriptors - before.out_of_descriptors,
                     sampler::process_descriptors_taken(sampler::descriptors_per_attached_process));
    if (now.not_permitted > before.not_permitted)
        spdlog::info("session={} {} descendant process(es) its caller may not profile: skipped", id_,
                     now.not_permitted - before.not_permitted);
    if (now.failed > before.failed)
        spdlog::info("session={} {} descendant process(es) could not be sampled (listed with their errors)", id_,
                     now.failed - before.failed);
}

void Session::log_truncation() const {
    spdlog::warn("session={} its profile reached {} ({} stacks, {} frames, {} bytes of labels): stacks it does not "
                 "hold yet count under [truncated] from now on",
                 id_, limit_key(profile_.cap_reached()), profile_.stack_count(), profile_.node_count() - 1,
                 profile_.stack_text_bytes());
}

void Session::record_stats(const sampler::SamplingStats& s) {
    std::lock_guard lock(mutex_);
    info_.samples = s.samples_taken;
    info_.samples_expected = s.samples_expected;
    info_.failed_samples = s.failed_samples;
    info_.thread_errors = s.thread_errors;
    info_.max_lag_ms = std::chrono::duration<double, std::milli>(s.max_lag).count();
    info_.mean_lag_ms = s.samples_taken ? std::chrono::duration<double, std::milli>(s.total_lag).count() /
                                              static_cast<double>(s.samples_taken)
                                        : 0;
}

void Session::finish(SessionState state, std::string failure, std::chrono::steady_clock::time_point started) {
    {
        std::lock_guard lock(mutex_);
        info_.state = state;
        info_.failure = std::move(failure);
        info_.ended = WallClock::now();
        info_.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        info_ = current_info();
        aggregator_.reset();
        final_profile_ = std::make_shared<const render::Profile>(std::move(profile_));
        profile_ = render::Profile();
    }
    snapshot_published_.notify_all();  // readers waiting for a snapshot take the final profile
    if (on_end_) on_end_(*this);
    {
        std::lock_guard lock(mutex_);
        thread_done_ = true;
    }
    ended_.notify_all();
}

}  // namespace pyprofd::daemon
