#include "daemon/process_tree.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/descendant_processes.hpp"
#include "daemon/profile_output.hpp"
#include "render/frame_label.hpp"
#include "sampler/proc_files.hpp"
#include "sampler/process_identity.hpp"
#include "sampler/thread_pause.hpp"

namespace pyprofd::daemon {
namespace {

std::string executable_of(pid_t pid) {
    auto exe = sampler::read_exe_link(pid);
    return exe ? *exe : std::string();
}

std::string root_label_of(const sampler::PythonProcess& process) {
    return render::process_label(process.pid(), command_text(process.command_line()));
}

}  // namespace

const char* to_string(SampledProcessState state) {
    switch (state) {
        case SampledProcessState::sampling: return "sampling";
        case SampledProcessState::sampled: return "sampled";
        case SampledProcessState::exited: return "exited";
        case SampledProcessState::failed: return "failed";
    }
    return "failed";
}

std::optional<SampledProcessState> sampled_process_state_named(std::string_view name) {
    for (auto s : {SampledProcessState::sampling, SampledProcessState::sampled, SampledProcessState::exited, SampledProcessState::failed})
        if (name == to_string(s)) return s;
    return std::nullopt;
}

ProcessTree::ProcessTree(const sampler::PythonProcess& root, AttachProcess attach, MayProfile may_profile,
                         ProcessTreeOptions options)
    : attach_(std::move(attach)), may_profile_(std::move(may_profile)), options_(options),
      root_label_(root_label_of(root)) {
    options_.max_processes = std::max<std::size_t>(options_.max_processes, 1);
    records_.push_back({.pid = root.pid(),
                        .command_line = root.command_line(),
                        .python_version = root.version().to_string(),
                        .working_directory = root.working_directory(),
                        .standard_library = root.standard_library()});
}

std::size_t ProcessTree::add_record(SampledProcess record) {
    ++changes_;
    if (records_.size() >= max_listed) {
        // The oldest that ended makes room; the followed ones' places move up by one.
        auto ended = std::find_if(records_.begin() + 1, records_.end(),
                                  [](const auto& r) { return r.state != SampledProcessState::sampling; });
        if (ended == records_.end()) return records_.size();  // cannot happen: max_processes is far below
        auto gone = static_cast<std::size_t>(ended - records_.begin());
        records_.erase(ended);
        for (auto& f : followed_)
            if (f.record > gone) --f.record;
    }
    records_.push_back(std::move(record));
    return records_.size() - 1;
}

void ProcessTree::add_failed(pid_t pid, pid_t parent, std::string error) {
    ++skipped_.failed;
    ++changes_;
    // Failed ones are listed while there is room: a tree of thousands failing is counted.
    if (records_.size() < max_listed)
        records_.push_back({.pid = pid,
                            .parent = parent,
                            .state = SampledProcessState::failed,
                            .error = std::move(error)});
}

void ProcessTree::stop_following(std::size_t followed_index, SampledProcessState state, std::string error) {
    auto& followed = followed_[followed_index];
    if (followed.record < records_.size()) {
        auto& record = records_[followed.record];
        record.state = state;
        record.error = std::move(error);
        if (state == SampledProcessState::failed) ++skipped_.failed;
        // One that never gave a sample (a fork that exec'd another program at once)
        // showed nothing: it leaves no entry.
        if (state == SampledProcessState::exited && record.samples == 0) {
            auto gone = followed.record;
            records_.erase(records_.begin() + static_cast<std::ptrdiff_t>(gone));
            for (auto& f : followed_)
                if (f.record > gone) --f.record;
        }
    }
    followed_.erase(followed_.begin() + static_cast<std::ptrdiff_t>(followed_index));
    ++changes_;
}

void ProcessTree::try_to_follow(pid_t pid, pid_t parent, const Key& key, Known& known) {
    using Status = Known::Status;
    if (followed() >= options_.max_processes) {
        if (!known.counted_over_limit) {
            known.counted_over_limit = true;
            ++skipped_.over_limit;
            ++changes_;
        }
        return;  // looked at again when one ends
    }
    // The caller's access is checked before attaching, and again after (the PID may
    // have been reused in between).
    auto refused = [&] {
        if (!may_profile_ || may_profile_(pid)) return false;
        known.status = Status::not_permitted;
        ++skipped_.not_permitted;
        ++changes_;
        return true;
    };
    if (refused()) return;
    if (options_.blocking) {
        if (auto free = sampler::ThreadPause::check_not_traced(pid); !free) {
            known.status = Status::failed;
            add_failed(pid, parent, free.error().message);
            return;
        }
    }
    auto attached = attach_(pid);
    if (!attached) {
        switch (attached.error().kind) {
            case sampler::ErrorKind::no_such_process: known.status = Status::trying; return;  // gone: forgotten next look
            case sampler::ErrorKind::not_python:
                known.status = Status::not_python;
                known.executable = executable_of(pid);
                return;
            case sampler::ErrorKind::permission_denied:
                known.status = Status::not_permitted;
                ++skipped_.not_permitted;
                ++changes_;
                return;
            case sampler::ErrorKind::out_of_descriptors:
                // The daemon's share of descriptors for attached processes is taken (by
                // this session or others): counted once, tried again next look.
                known.status = Status::trying;
                if (!known.counted_out_of_descriptors) {
                    known.counted_out_of_descriptors = true;
                    ++skipped_.out_of_descriptors;
                    ++changes_;
                }
                return;
            default:
                // An interpreter that is still starting may not be readable yet.
                if (++known.attempts < attach_attempts) return;
                known.status = Status::failed;
                add_failed(pid, parent, attached.error().message);
                return;
        }
    }
    // Pinned now: checked again, since the PID may have named another process a
    // moment ago, before that one exited and this one took its number.
    if (attached->exited() || sampler::process_start_time(pid) != key.start_time) return;
    if (refused()) return;
    known.status = Status::followed;
    auto record = add_record({.pid = pid,
                              .parent = parent,
                              .command_line = attached->command_line(),
                              .python_version = attached->version().to_string(),
                              .working_directory = attached->working_directory(),
                              .standard_library = attached->standard_library()});
    auto label = root_label_of(*attached);
    followed_.push_back({std::move(*attached), record, std::move(label)});
}

void ProcessTree::finish() {
    for (auto& record : records_)
        if (record.state == SampledProcessState::sampling) record.state = SampledProcessState::sampled;
    followed_.clear();  // nothing stays attached (nor, blocking, held) past the run
    ++changes_;
}

void ProcessTree::look_for_descendants(pid_t root) {
    using Status = Known::Status;
    ++looks_;
    for (const auto& found : descendants_of(root, max_descendants_looked_at)) {
        auto start = sampler::process_start_time(found.pid);
        if (!start) continue;  // gone
        Key key{found.pid, *start};
        auto& known = known_[key];
        known.seen = looks_;
        switch (known.status) {
            case Status::followed:
            case Status::not_permitted:
            case Status::failed: continue;
            case Status::not_python:
                // Passed over until it runs another program: a fork that execs Python.
                if (executable_of(found.pid) == known.executable) continue;
                known.status = Status::trying;
                break;
            case Status::trying: break;
        }
        try_to_follow(found.pid, found.parent, key, known);
    }
    // What this look did not find is gone (or no longer below the root): forgotten,
    // so the map stays as small as the tree. A followed one is kept until it ends,
    // wherever it went.
    std::erase_if(known_, [&](const auto& entry) {
        return entry.second.seen != looks_ && entry.second.status != Status::followed;
    });
}

sampler::TickOutcome ProcessTree::tick(sampler::PythonProcess& root, const sampler::SampleOptions& options,
                                       const OnSample& on_sample) {
    using Outcome = sampler::TickOutcome;
    auto now = std::chrono::steady_clock::now();
    if (now >= next_look_) {
        look_for_descendants(root.pid());
        next_look_ = now + options_.look_every;
    }

    Outcome outcome;
    auto sample = root.sample(options);
    root_unresponsive_.count(sample, now);
    if (sample) {
        std::uint64_t errors = 0;
        for (const auto& t : sample->threads) errors += t.error.has_value();
        outcome.thread_errors += errors;
        ++records_[0].samples;
        if (on_sample) on_sample(*sample, errors, {0, root_label_});
    } else if (sample.error().kind == sampler::ErrorKind::no_such_process || root.exited()) {
        records_[0].state = SampledProcessState::exited;
        ++changes_;
        return {.kind = Outcome::Kind::ended, .end = sampler::SamplingEnd::target_exited};
    } else if (sample.error().kind == sampler::ErrorKind::program_replaced || root.program_replaced()) {
        records_[0].state = SampledProcessState::exited;
        ++changes_;
        return {.kind = Outcome::Kind::ended, .end = sampler::SamplingEnd::target_replaced};
    } else if (root_unresponsive_.exhausted(now)) {
        records_[0].state = SampledProcessState::failed;
        records_[0].error = sample.error().message;
        ++changes_;
        return {.kind = Outcome::Kind::ended,
                .end = sampler::SamplingEnd::unresponsive,
                .failure = fmt::format("{} samples in a row failed: {}", root_unresponsive_.samples, sample.error().message)};
    } else {
        outcome.kind = Outcome::Kind::failed;
    }

    for (std::size_t i = 0; i < followed_.size();) {
        auto& f = followed_[i];
        auto taken = f.process.sample(options);
        f.unresponsive.count(taken, now);
        if (taken) {
            std::uint64_t errors = 0;
            for (const auto& t : taken->threads) errors += t.error.has_value();
            outcome.thread_errors += errors;
            if (f.record < records_.size()) ++records_[f.record].samples;
            if (on_sample) on_sample(*taken, errors, {f.record, f.label});
        } else if (taken.error().kind == sampler::ErrorKind::no_such_process || f.process.exited()) {
            stop_following(i, SampledProcessState::exited);
            continue;
        } else if (taken.error().kind == sampler::ErrorKind::program_replaced || f.process.program_replaced()) {
            // Another program now: if that is a Python too, the next look follows it afresh.
            std::erase_if(known_, [&](const auto& entry) { return entry.first.pid == f.process.pid(); });
            stop_following(i, SampledProcessState::exited);
            continue;
        } else if (f.unresponsive.exhausted(now)) {
            stop_following(i, SampledProcessState::failed,
                           fmt::format("blocking sampling gave up: {} samples in a row failed: {}",
                                       f.unresponsive.samples, taken.error().message));
            continue;
        }
        ++i;
    }
    return outcome;
}

}  // namespace pyprofd::daemon
