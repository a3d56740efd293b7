#include "daemon/session_manager.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "daemon/launch_environment.hpp"
#include "sampler/thread_pause.hpp"

namespace pyprofd::daemon {
SessionManager::SessionManager(const config::DaemonConfig& config, SessionStore store, AccessPolicy policy,
                               AttachProcess attach_process)
    : config_(config), store_(std::move(store)), policy_(std::move(policy)), attach_process_(std::move(attach_process)) {
    auto loaded = store_.load_all();
    for (const auto& problem : loaded.problems) spdlog::warn("state: {}", problem);
    for (auto& info : loaded.sessions) {
        if (info.state == SessionState::running) {
            // It was running when the daemon stopped without ending it: keep what its
            // last checkpoint saved.
            info.state = SessionState::interrupted;
            for (auto& process : info.processes)
                if (process.state == SampledProcessState::sampling) process.state = SampledProcessState::sampled;
            if (!info.ended) info.ended = WallClock::now();
            if (auto saved = store_.save_record(info); !saved) spdlog::warn("session={} {}", info.id, saved.error());
            spdlog::info("session={} was running when the daemon stopped: interrupted, {} samples kept", info.id,
                         info.samples);
        }
        auto id = info.id;
        auto loader = [this, id]() -> std::shared_ptr<const render::Profile> {
            auto read = store_.load_profile(id, profile_limits());
            if (!read.problem.empty())
                spdlog::warn("session={} {}; its profile is served with the stacks before that line", id, read.problem);
            return std::make_shared<const render::Profile>(std::move(read.profile));
        };
        sessions_.emplace(id, std::make_shared<Session>(std::move(info), loader));
    }
    spdlog::info("state: {} sessions loaded from {}", sessions_.size(), store_.directory());
    if (auto writable = store_.check_writable(); !writable)
        spdlog::error("state: {}; results are kept in memory, and saved once it can be written", writable.error());
    apply_retention();
    if (config_.targets.allow_commands) {
        launch_cgroups_ = config_.targets.command_cgroups ? LaunchCgroups::find()
                                                          : LaunchCgroups{{}, "targets.command_cgroups is off", {}};
        spdlog::info("launched programs: {}", launch_cgroups_.describe());
    }
    checkpointer_ = std::jthread([this](std::stop_token stop) {
        ::prctl(PR_SET_NAME, "pyprofd-checkpt", 0, 0, 0);
        checkpoint_loop(stop);
    });
}

SessionManager::~SessionManager() { shutdown(); }

render::ProfileLimits profile_limits_of(const config::Limits& limits) {
    return {.max_stacks = limits.max_profile_stacks,
            .max_frames = limits.max_profile_frames,
            .max_label_bytes = static_cast<std::size_t>(limits.max_profile_label_bytes)};
}

render::ProfileLimits SessionManager::profile_limits() const { return profile_limits_of(config_.limits); }

Result<std::optional<LaunchOptions>> SessionManager::check(const SessionSpec& spec, const Caller& caller) const {
    const auto& limits = config_.limits;
    auto invalid = [](std::string field, std::string message) {
        return std::unexpected(Error{Error::Kind::invalid, std::move(message), std::move(field)});
    };
    if (spec.pid.has_value() == !spec.command.empty())
        return invalid("pid", "give either pid (a running process) or command (a program to launch), not both or neither");
    if (spec.pid && (!spec.env.empty() || !spec.cwd.empty()))
        return invalid(spec.env.empty() ? "cwd" : "env", "env and cwd are for a command pyprofd launches, not a running process");
    if (spec.pid && *spec.pid <= 0) return invalid("pid", fmt::format("pid must be a process id (1 or more), not {}", *spec.pid));
    if (spec.pid)
        if (auto allowed = check_target(*spec.pid, caller); !allowed) return std::unexpected(allowed.error());
    std::optional<LaunchOptions> launch;
    if (!spec.command.empty()) {
        auto not_permitted = [](std::string why) {
            return std::unexpected(Error{Error::Kind::not_permitted, std::move(why), "command"});
        };
        auto user = policy_.launch_user(caller);
        if (!user) return not_permitted(user.error());
        // Clean: nothing of the daemon's own (terminal, environment, directory, log) reaches it.
        if (auto env = check_requested_environment(spec.env, config_.limits.max_command_env_vars,
                                                   config_.limits.max_command_env_bytes);
            !env)
            return invalid("env", env.error());
        if (!spec.cwd.empty() && !spec.cwd.starts_with('/'))
            return invalid("cwd", "cwd must be an absolute path: the command's working directory");
        // Entered as the user, after it has dropped root: the kernel says whether it may.
        LaunchOptions options{.run_as = *user,
                              .clean = LaunchOptions::CleanStart{.environment = launch_environment(*user, spec.env),
                                                                 .working_directory = spec.cwd.empty() ? "/" : spec.cwd},
                              .cgroup_parent = launch_cgroups_.parent};
        auto program = resolve_program(spec.command.front(), options);
        if (!program)
            return invalid("command", fmt::format("command: '{}' is not a program that can be run (not found on PATH, "
                                                  "or not executable)",
                                                  spec.command.front()));
        if (auto as = policy_.launch_as(caller, *program); !as) return not_permitted(as.error());
        launch = std::move(options);
    }
    if (!(spec.rate_hz >= 1 && spec.rate_hz <= limits.max_rate_hz))
        return invalid("rate_hz", fmt::format("rate_hz must be from 1 to {} samples per second, not {}", limits.max_rate_hz,
                                              spec.rate_hz));
    if (spec.duration_s) {
        if (!(*spec.duration_s > 0 && *spec.duration_s <= limits.max_duration_s))
            return invalid("duration_s", fmt::format("duration_s must be more than 0 and at most {} seconds, not {}",
                                                     limits.max_duration_s, *spec.duration_s));
    } else if (!limits.allow_unlimited_duration) {
        return invalid("duration_s", fmt::format("sessions without a duration are not allowed here; give duration_s "
                                                 "(at most {} s)",
                                                 limits.max_duration_s));
    }
    if (spec.name.size() > 200) return invalid("name", "name must be at most 200 bytes");
    return launch;
}

Result<SessionInfo> SessionManager::start(SessionSpec spec, const Caller& caller) {
    auto launch = check(spec, caller);
    if (!launch) return std::unexpected(launch.error());
    auto running_now = [&] {
        std::size_t n = 0;
        for (const auto& [id, s] : sessions_) n += s->running();
        return n;
    };
    auto too_many = [&] {
        return Error{Error::Kind::too_many,
                            fmt::format("{} sessions are running, the most allowed (limits.max_running_sessions); "
                                        "stop one or wait for one to end",
                                        config_.limits.max_running_sessions),
                            {}};
    };
    {
        std::lock_guard lock(mutex_);
        if (shutting_down_) return std::unexpected(Error{Error::Kind::conflict, "the daemon is shutting down", {}});
        if (running_now() >= config_.limits.max_running_sessions) return std::unexpected(too_many());
    }
    SessionInfo info;
    info.id = new_session_id();
    info.owner = caller.owner();
    info.owner_name = caller.token.empty() || !caller.admin ? caller.user : "token " + caller.token;
    info.created = WallClock::now();
    std::optional<sampler::PythonProcess> process;
    sampler::DescriptorGrant launch_descriptors;
    if (!spec.pid) {
        auto taken = sampler::take_process_descriptors(descriptors_per_launched_program);
        if (!taken) return std::unexpected(Error{Error::Kind::unavailable, taken.error(), {}});
        launch_descriptors = std::move(*taken);
    }
    if (spec.pid) {
        auto attached = attach(*spec.pid, caller);
        if (!attached) return std::unexpected(attached.error());
        process.emplace(std::move(*attached));
        if (spec.blocking)
            if (auto free = sampler::ThreadPause::check_not_traced(*spec.pid); !free)
                return std::unexpected(Error{Error::Kind::conflict, free.error().message, "blocking"});
        info.target_pid = process->pid();
        info.target_command_line = process->command_line();
        info.python_version = process->version().to_string();
        info.working_directory = process->working_directory();
        info.standard_library = process->standard_library();
    }
    info.spec = std::move(spec);
    std::shared_ptr<Session> session;
    {
        std::lock_guard lock(mutex_);
        if (running_now() >= config_.limits.max_running_sessions) return std::unexpected(too_many());
        if (info.spec.blocking && info.spec.pid)
            if (auto other = blocking_session_of(*info.spec.pid))
                return std::unexpected(Error{
                    Error::Kind::conflict,
                    fmt::format("process {} is already sampled in blocking mode by session {}; a process has one "
                                "tracer at a time, so two blocking sessions would fail each other's samples. "
                                "Sample it without blocking, or stop that session first",
                                *info.spec.pid, *other),
                    "blocking"});
        // Saved before it runs: a daemon that dies now leaves it `interrupted`, not lost.
        if (auto saved = store_.save_record(info); !saved) spdlog::warn("session={} {}", info.id, saved.error());
        // Each descendant of a worker tree passes the same check as the target, for this caller.
        DescendantFollowing following{
            .attach = attach_process_,
            .may_profile = [this, caller](pid_t pid) { return policy_.allows_process(caller, pid); },
            .options = {.max_processes = config_.limits.max_session_processes}};
        session = std::make_shared<Session>(info, std::move(process), launch->value_or(LaunchOptions{}),
                                            [this](Session& s) { session_ended(s); }, profile_limits(),
                                            std::move(following), std::move(launch_descriptors));
        sessions_.emplace(info.id, session);
    }
    spdlog::info("session={} started by {}: {} at {} Hz for {}", info.id, caller.describe(),
                 info.spec.pid ? fmt::format("process {} (Python {})", info.target_pid, info.python_version)
                               : fmt::format("command {} as {}", info.spec.command.front(), (*launch)->run_as->name),
                 info.spec.rate_hz, info.spec.duration_s ? fmt::format("{} s", *info.spec.duration_s) : "until stopped");
    return session->info();
}

std::optional<std::string> SessionManager::blocking_session_of(pid_t pid) const {
    for (const auto& [id, session] : sessions_) {
        auto info = session->info();
        if (info.state == SessionState::running && info.spec.blocking && info.target_pid == pid) return id;
    }
    return std::nullopt;
}

Result<void> SessionManager::check_target(pid_t pid, const Caller& caller) const {
    if (auto allowed = policy_.allows_process(caller, pid); !allowed)
        return std::unexpected(Error{Error::Kind::not_permitted, allowed.error(), "pid"});
    return {};
}

Result<sampler::PythonProcess> SessionManager::attach(pid_t pid, const Caller& caller) const {
    if (auto allowed = check_target(pid, caller); !allowed) return std::unexpected(allowed.error());
    auto process = attach_process_(pid);
    if (!process) return std::unexpected(process_error(pid, process.error()));
    // Checked again now that the process is pinned: the PID may have named another
    // process a moment ago, before that one exited and this one took its number.
    if (auto allowed = check_target(pid, caller); !allowed) return std::unexpected(allowed.error());
    if (process->exited())
        return std::unexpected(Error{Error::Kind::not_found, fmt::format("no process {}: it exited", pid), "pid"});
    return std::move(*process);
}

std::shared_ptr<Session> SessionManager::find(const std::string& id, const Caller& caller) const {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || !policy_.may_see(caller, it->second->owner())) return nullptr;
    return it->second;
}

std::vector<SessionInfo> SessionManager::all_sessions() const {
    std::vector<std::shared_ptr<Session>> all;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, s] : sessions_) all.push_back(s);
    }
    std::vector<SessionInfo> infos;
    infos.reserve(all.size());
    for (const auto& s : all) infos.push_back(s->info());
    std::sort(infos.begin(), infos.end(), [](const SessionInfo& a, const SessionInfo& b) {
        return a.created != b.created ? a.created > b.created : a.id > b.id;
    });
    return infos;
}

SessionPage SessionManager::list(const Caller& caller, const SessionFilter& filter) const {
    SessionPage page;
    for (auto& info : all_sessions()) {
        if (!policy_.may_see(caller, info.owner) || (filter.state && info.state != *filter.state)) continue;
        bool on_page = page.total++ >= filter.offset && (!filter.limit || page.sessions.size() < *filter.limit);
        if (on_page) page.sessions.push_back(std::move(info));
    }
    return page;
}

Result<ProcessStacks> SessionManager::process_stacks(pid_t pid, const Caller& caller) const {
    auto process = attach(pid, caller);
    if (!process) return std::unexpected(process.error());
    auto sample = process->sample();
    if (!sample) return std::unexpected(process_error(pid, sample.error()));
    return ProcessStacks{std::move(*process), std::move(*sample)};
}

PythonProcessList SessionManager::python_processes(const Caller& caller) const {
    return list_python_processes(process_scan_, policy_, caller);
}

Result<SessionInfo> SessionManager::get(const std::string& id, const Caller& caller) const {
    auto session = find(id, caller);
    if (!session) return std::unexpected(Error{Error::Kind::not_found, fmt::format("no session {}", id), {}});
    return session->info();
}

Result<SessionInfo> SessionManager::stop(const std::string& id, const Caller& caller) {
    auto session = find(id, caller);
    if (!session) return std::unexpected(Error{Error::Kind::not_found, fmt::format("no session {}", id), {}});
    if (!session->running())
        return std::unexpected(Error{Error::Kind::conflict,
                                            fmt::format("session {} has already ended ({})", id,
                                                        to_string(session->info().state)),
                                            {}});
    session->request_stop();
    // Its end (and its final save) has happened when stop answers, unless it takes
    // longer than a handler may wait.
    bool ended = session->wait_ended(std::chrono::milliseconds(2000));
    spdlog::info("session={} {} on request of {}", id, ended ? "stopped" : "stopping", caller.describe());
    return session->info();
}

Result<void> SessionManager::remove(const std::string& id, const Caller& caller) {
    std::shared_ptr<Session> session;
    {
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(id);
        if (it == sessions_.end() || !policy_.may_see(caller, it->second->owner()))
            return std::unexpected(Error{Error::Kind::not_found, fmt::format("no session {}", id), {}});
        session = std::move(it->second);
        sessions_.erase(it);
    }
    session->mark_removed();
    session->request_stop();
    if (session->wait_ended(std::chrono::milliseconds(1000))) {
        std::lock_guard lock(checkpoint_mutex_);
        checkpoints_.erase(id);
        store_.remove(id);
    }
    {
        // Joined (and, if it was still running, its files deleted) on the checkpoint
        // thread: a handler never waits for a session thread.
        std::lock_guard lock(mutex_);
        removed_.push_back({std::move(session), true});
    }
    spdlog::info("session={} removed on request of {}", id, caller.describe());
    return {};
}

Result<std::pair<SessionInfo, std::shared_ptr<const render::Profile>>> SessionManager::profile(
    const std::string& id, const Caller& caller) const {
    auto session = find(id, caller);
    if (!session) return std::unexpected(Error{Error::Kind::not_found, fmt::format("no session {}", id), {}});
    return session->snapshot();
}

Result<std::string> SessionManager::output(const std::string& id, const Caller& caller) const {
    auto session = find(id, caller);
    if (!session) return std::unexpected(Error{Error::Kind::not_found, fmt::format("no session {}", id), {}});
    if (auto output = session->output()) return output->text();
    auto info = session->info();
    if (info.spec.pid)
        return std::unexpected(Error{Error::Kind::not_found,
                                            fmt::format("session {} samples process {}, which pyprofd did not launch: its "
                                                        "output is not pyprofd's to keep",
                                                        id, *info.spec.pid),
                                            {}});
    if (auto saved = store_.load_output(id)) return std::move(*saved);
    return std::unexpected(Error{
        Error::Kind::not_found,
        fmt::format("the output of session {} was not saved (its program never started, or the daemon stopped first)", id),
        {}});
}

void SessionManager::save_output(const Session& session) const {
    auto output = session.output();
    if (!output) return;
    if (auto saved = store_.save_output(session.id(), output->text()); !saved)
        spdlog::warn("session={} its program's output is not saved: {}", session.id(), saved.error());
}

SessionCounts SessionManager::counts() const {
    SessionCounts counts;
    for (const auto& info : all_sessions()) {
        ++counts.by_state[info.state];
        counts.samples += info.samples;
        counts.errors += info.failed_samples + info.thread_errors;
        counts.max_lag_ms = std::max(counts.max_lag_ms, info.max_lag_ms);
    }
    return counts;
}

void SessionManager::session_ended(Session& session) {
    if (session.removed()) return;  // deleted: nothing of it is saved again
    auto [info, profile] = session.snapshot();
    {
        std::lock_guard lock(checkpoint_mutex_);
        std::expected<void, std::string> saved;
        try {
            checkpoints_.erase(info.id);  // the final save writes it whole
            saved = store_.save(info, *profile);
        } catch (const std::exception& e) {  // out of memory while writing, say
            saved = std::unexpected(std::string(e.what()));
        }
        if (!saved) {
            spdlog::error("session={} its results are kept in memory and saved again every few seconds: {}", info.id,
                          saved.error());
            session.set_save_error(saved.error());
        }
        save_output(session);
    }
    spdlog::info("session={} ended: {}{}, {} samples, {} errors", info.id, to_string(info.state),
                 info.failure.empty() ? "" : " (" + info.failure + ")", info.samples,
                 info.failed_samples + info.thread_errors);
    apply_retention(info.id);
}

void SessionManager::checkpoint_running() {
    // Running sessions, and finished ones whose final save failed (the disk was full
    // or read-only): tried again until it works.
    std::vector<std::shared_ptr<Session>> due;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, s] : sessions_)
            if (s->due_for_saving()) due.push_back(s);
    }
    for (const auto& s : due) {
        // Under the lock the final save also takes: a checkpoint never lands after it.
        std::lock_guard lock(checkpoint_mutex_);
        if (s->removed()) continue;  // deleted since: its files are gone, or going
        std::expected<void, std::string> saved;
        SessionInfo info;
        try {
            auto [snapshot_info, profile] = s->snapshot();
            info = std::move(snapshot_info);
            bool retry = is_finished(info.state) && !info.save_error.empty();
            if (info.state != SessionState::running && !retry) continue;
            if (retry)
                saved = store_.save(info, *profile);
            else
                saved = store_.save_checkpoint(info, *profile, checkpoints_[info.id]);
        } catch (const std::exception& e) {  // one session's failure is not the checkpointer's end
            saved = std::unexpected(std::string(e.what()));
            info = s->info();
        }
        if (!saved) {
            if (saved.error() != info.save_error) spdlog::warn("session={} not saved: {}", info.id, saved.error());
            s->set_save_error(saved.error());
            continue;
        }
        save_output(*s);
        if (!info.save_error.empty()) {
            s->set_save_error({});
            spdlog::info("session={} saved now", info.id);
        }
    }
}

void SessionManager::checkpoint_loop(std::stop_token stop) {
    std::mutex m;
    std::unique_lock lock(m);
    auto interval = std::chrono::duration<double>(config_.checkpoint_interval_s);
    while (!stop.stop_requested()) {
        wake_.wait_for(lock, stop, interval, [] { return false; });
        if (stop.stop_requested()) break;
        checkpoint_running();
        // Running sessions' checkpoints count against the disk limit too.
        apply_retention();
        bury_removed();
        reap_stray_children();
    }
}

void SessionManager::apply_retention(const std::string& keep) {
    {
        std::lock_guard lock(mutex_);
        std::vector<SessionInfo> finished;
        std::uint64_t bytes = 0;  // on disk, the running sessions' checkpoints too
        for (const auto& [id, s] : sessions_) {
            auto info = s->info();
            if (is_finished(info.state))
                finished.push_back(std::move(info));
            else
                bytes += store_.bytes_on_disk(id);
        }
        std::sort(finished.begin(), finished.end(),
                  [](const SessionInfo& a, const SessionInfo& b) { return a.created < b.created; });  // oldest first
        const auto& r = config_.retention;
        auto oldest_allowed = WallClock::now() - std::chrono::duration_cast<WallClock::duration>(
                                                     std::chrono::duration<double>(r.max_age_days * 86400));
        std::vector<std::uint64_t> sizes;  // on disk, each looked up once
        for (const auto& info : finished) bytes += sizes.emplace_back(store_.bytes_on_disk(info.id));
        std::size_t left = finished.size();
        for (std::size_t i = 0; i < finished.size(); ++i) {
            const auto& info = finished[i];
            if (info.id == keep) continue;  // counted, never removed
            bool too_many = left > r.max_sessions;
            bool too_old = info.created < oldest_allowed;
            bool too_big = bytes > r.max_disk_bytes && left > 1;  // the newest stays, whatever its size
            if (!too_many && !too_old && !too_big) continue;
            bytes -= std::min(bytes, sizes[i]);
            store_.remove(info.id);
            auto it = sessions_.find(info.id);
            if (it != sessions_.end()) {
                removed_.push_back({std::move(it->second), false});
                sessions_.erase(it);
            }
            --left;
            spdlog::info("session={} removed by retention ({})", info.id,
                         too_many ? "limits: retention.max_sessions" : too_old ? "retention.max_age_days" : "retention.max_disk_mb");
        }
    }
}

void SessionManager::bury_removed() {
    std::vector<Removed> removed;
    {
        std::lock_guard lock(mutex_);
        removed.swap(removed_);
    }
    for (auto& [session, delete_files] : removed) {
        auto id = session->id();
        session->join();
        std::lock_guard lock(checkpoint_mutex_);
        checkpoints_.erase(id);
        if (delete_files) store_.remove(id);
    }
}  // destroyed here, outside the lock

void SessionManager::shutdown() {
    std::vector<std::shared_ptr<Session>> running;
    {
        std::lock_guard lock(mutex_);
        if (shutting_down_) return;
        shutting_down_ = true;
        for (const auto& [id, s] : sessions_)
            if (s->running()) running.push_back(s);
    }
    for (const auto& s : running) s->request_stop();
    for (const auto& s : running) s->join();
    checkpointer_.request_stop();
    if (checkpointer_.joinable()) checkpointer_.join();
    bury_removed();
    if (!running.empty()) spdlog::info("{} running sessions stopped and saved", running.size());
}

}  // namespace pyprofd::daemon
