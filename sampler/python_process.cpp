#include "sampler/python_process.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <fmt/format.h>

#include "sampler/byte_reads.hpp"
#include "sampler/code_cache.hpp"
#include "sampler/code_epochs.hpp"
#include "sampler/debug_offsets.hpp"
#include "sampler/descriptor_budget.hpp"
#include "sampler/frame_walker.hpp"
#include "sampler/gil_holders.hpp"
#include "sampler/listed_thread_states.hpp"
#include "sampler/local_buffers.hpp"
#include "sampler/object_reader.hpp"
#include "sampler/pause_proof.hpp"
#include "sampler/proc_files.hpp"
#include "sampler/pthread_tid.hpp"
#include "sampler/remote_limits.hpp"
#include "sampler/thread_activity.hpp"
#include "sampler/process_identity.hpp"
#include "sampler/process_root.hpp"
#include "sampler/source_directories.hpp"
#include "sampler/process_tasks.hpp"
#include "sampler/thread_pause.hpp"
#include "sampler/thread_names.hpp"
#include "sampler/unchanged_stacks.hpp"
#include "sampler/version_detection.hpp"

namespace pyprofd::sampler {
namespace {

// How often a sample reads the whole thread list, not passing by the states of threads
// that did not run: how long a state unlinked by another thread than its own can stay
// in the samples (listed_thread_states.hpp). Interpreter finalization does so.
constexpr std::chrono::milliseconds whole_list_every{250};

// Which thread a thread state is, as the reuse of stacks knows it (unchanged_stacks.hpp).
ThreadKey key_of(const ThreadStateInfo& t) { return ThreadKey{t.address, t.ident, t.task.host_tid, t.frame_field}; }

// Whether the process exists and we may look at it, with the error a user can act on.
Result<void> check_process(pid_t pid) {
    if (pid <= 0) return fail(ErrorKind::no_such_process, fmt::format("{} is not a valid PID", pid));
    if (::kill(pid, 0) != 0 && errno == ESRCH)
        return fail(ErrorKind::no_such_process, fmt::format("no process with PID {}", pid));
    return {};
}

Result<PythonTypes> find_types(const PythonBinary& binary, const Layout& layout) {
    auto need = [&](std::string_view name) -> Result<RemoteAddress> {
        if (auto a = binary.address_of(name)) return *a;
        return fail(ErrorKind::not_python, fmt::format("{} has no symbol {}", binary.path, name));
    };
    bool py2 = layout.major == 2;
    PythonTypes t;
    for (auto [field, name] : std::initializer_list<std::pair<RemoteAddress*, std::string_view>>{
             {&t.code, "PyCode_Type"},
             {&t.frame, "PyFrame_Type"},
             {&t.str, py2 ? "PyString_Type" : "PyUnicode_Type"},
             {&t.bytes, py2 ? "PyString_Type" : "PyBytes_Type"},
             {&t.dict, "PyDict_Type"},
             {&t.integer, py2 ? "PyInt_Type" : "PyLong_Type"},
             {&t.long_integer, "PyLong_Type"},
             {&t.module, "PyModule_Type"}}) {
        auto a = need(name);
        if (!a) return std::unexpected(a.error());
        *field = *a;
    }
    return t;
}

std::string supported_versions() {
    std::string out;
    for (auto [major, minor] : builtin_layout_versions())
        out += fmt::format("{}{}.{}", out.empty() ? "" : ", ", major, minor);
    return out;
}

// A version with no layout: named, and, where it is newer than every one pyprofd
// knows, said so (each minor version lays its interpreter out anew: none is guessed).
std::string unsupported_version_message(pid_t pid, const PythonVersion& version) {
    auto newest = builtin_layout_versions().back();
    bool newer = version.major > newest.first || (version.major == newest.first && version.minor > newest.second);
    return fmt::format("process {} runs Python {}, which pyprofd cannot read{}; supported: {}", pid,
                       version.to_string(),
                       newer ? fmt::format(": {} is newer than this pyprofd knows (see the README on adding a "
                                           "version)",
                                           version.family())
                             : "",
                       supported_versions());
}

}  // namespace

struct PythonProcess::State {
    State(pid_t p, std::optional<ProcessIdentity> i, RemoteMemory m)
        : identity(std::move(i)), pid(p), memory(std::move(m)), activity(p) {}

    // Its share of process_descriptor_budget(); none for memory given by hand. The
    // first member, so given back only once every other has closed what it held.
    DescriptorGrant descriptors;
    // The process attached to, not whatever has its PID later; none for memory given
    // by hand (attach_to_address_space).
    std::optional<ProcessIdentity> identity;
    pid_t pid;
    std::vector<std::string> cmdline;
    std::string exe;
    PythonBinary binary;
    PythonVersion version;
    SourceDirectories sources;  // found at attach; none for memory given by hand
    Layout layout;
    LayoutSource layout_source = LayoutSource::builtin_table;
    PythonTypes types;
    RemoteMemory memory;
    std::optional<RemoteAddress> runtime;         // _PyRuntime (3.7+)
    std::optional<RemoteAddress> interp_head;     // interp_head (2.7, 3.6)
    std::optional<RemoteAddress> current_thread;  // _PyThreadState_Current (2.7, 3.6)
    std::unique_ptr<ObjectReader> reader;
    std::unique_ptr<CodeCache> codes;
    std::unique_ptr<FrameWalker> stack_walker;  // of codes; keeps its buffers from sample to sample
    // 3.14+: epochs in which no code object was freed, which vouch for the cache.
    std::unique_ptr<CodeEpochs> code_epochs;
    std::vector<RemoteAddress> interpreters_walked;  // by the last thread list read
    PthreadTidResolver pthread_tids;
    // The process's tasks by the ids it knows them by; none for memory given by hand,
    // whose ids are taken as they are.
    std::optional<ProcessTasks> tasks;
    ThreadNames names;
    ThreadActivityReader activity;
    StragglerThreads stragglers;  // blocking mode: threads a pause left seized, not stopped yet
    // Blocking mode: the thread each thread state was on in the last sample read, and
    // what the pauses did (see pause_proof.hpp).
    ThreadStateTasks state_tasks;
    PauseCounts pause_counts;
    // Parked threads' stacks, reused while they provably do not run (not in blocking mode).
    UnchangedStacks unchanged;
    // The last walk of the thread list, and when the whole list is read next.
    ListedThreadStates listed;
    std::chrono::steady_clock::time_point next_full_walk{};
    SampleCost cost;
    // A sample's first read: the image check, then the code cache's checks; and the
    // pages of threads that ran since their stacks were read.
    std::vector<RemoteMemory::ReadRequest> first_reads;
    std::vector<RemoteAddress> pages_again;
    ProcessIdentity::ImageId image_now;
    // A sample's thread list and each thread's reused stack, kept from sample to
    // sample for their capacity only.
    std::vector<ThreadStateInfo> sample_states;
    std::vector<const FrameList*> reused_stacks;
    std::vector<NamedThread> named_threads;
    const ThreadName main_thread_name{"MainThread"};

    Result<void> begin_snapshot();
    Result<void> attach_to_interpreter();
    Result<RemoteAddress> first_interpreter() const;
    // The thread list. pass_by: the states of threads that provably did not run
    // since they were read are taken from the last walk (listed_thread_states.hpp).
    enum class Walk { read_all, pass_by };
    // Into out, which keeps its capacity from walk to walk (a sample's are read into
    // sample_states: 161 states were a fresh allocation of 20 KiB a sample).
    Result<void> thread_states(std::vector<ThreadStateInfo>& out, Walk walk = Walk::read_all);
    Result<std::optional<ThreadStateInfo>> thread_state_again(const ThreadStateInfo& thread);
    // The thread list into sample_states, read again afresh where it did not hold together.
    Result<void> thread_states_settled(Walk walk);
    // A thread whose stack could not be read: its place in the sample, and which it was.
    struct FailedThread {
        std::size_t index;
        RemoteAddress address;
        std::uint64_t ident;
    };
    // Adds to ended the places of the failed threads that have ended since.
    void find_ended(const std::vector<FailedThread>& failed, std::vector<std::size_t>& ended);
    RemoteAddress gil_holder(RemoteAddress interpreter) const;

    // The parts of a sample.
    // What a sample knows of every thread before reading its stack.
    struct ThreadFacts {
        std::unordered_map<pid_t, ThreadActivity> activity_before_pause;  // blocking mode
        bool paused = false;
        // Blocking mode: which threads are stopped (holders_only: the reads must be
        // proven exact after), and why every thread is where it is.
        PauseStage stage = PauseStage::all_before;
        PauseDoubt doubt = PauseDoubt::none;
        bool gil_known = false;
        RemoteAddress gil_holder = 0;
    };
    // Blocking mode: the GILs' holders paused where that proves enough, else every
    // thread (and what each was doing before); else none.
    Result<std::optional<ThreadPause>> pause_threads(const SampleOptions& options, ThreadFacts& facts);
    GilHolders gil_holders() const { return GilHolders(layout, runtime, interp_head, current_thread); }
    // Everything of a sample but the pause.
    Result<StackSample> read_sample(const SampleOptions& options, ThreadFacts& facts);
    // Which task each thread state is (see process_tasks.hpp), and the threads' names.
    void learn_threads(std::vector<ThreadStateInfo>& states, const SampleOptions& options);
    void find_tasks(std::vector<ThreadStateInfo>& states);
    // A thread's stack without its frames yet: ids, name, GIL.
    ThreadStack thread_stack(const ThreadStateInfo& t, const ThreadFacts& facts);
    // Whether it is on a CPU: now, or before the pause in blocking mode.
    ThreadActivity thread_activity(pid_t native_id, const ThreadFacts& facts);
    // Its frames, read again afresh where they did not hold together; nullopt: it ended.
    Result<std::optional<std::vector<Frame>>> read_frames(const FrameWalker& walker, const ThreadStateInfo& t,
                                                          std::size_t& rereads);
    // SampleOptions::check_reused_stacks: the reused stack against a fresh read.
    void check_reused_stack(const FrameWalker& walker, const ThreadStateInfo& t, const ThreadKey& key,
                            const FrameList& reused);
};

Result<RemoteAddress> PythonProcess::State::first_interpreter() const {
    Result<RemoteAddress> head = fail(ErrorKind::not_python, "no interpreter");
    // The layout says where the list is (3.7+: in _PyRuntime), not which symbols exist.
    if (layout.runtime.interpreters_head != absent && runtime)
        head = memory.read<RemoteAddress>(field_address(*runtime, layout.runtime.interpreters_head));
    else if (layout.runtime.interpreters_head == absent && interp_head)
        head = memory.read<RemoteAddress>(*interp_head);
    if (head && *head == 0)
        return fail(ErrorKind::not_python,
                    fmt::format("the Python interpreter of process {} is not running (not yet started, or "
                                "shutting down)",
                                pid));
    return head;
}

Result<void> PythonProcess::State::thread_states(std::vector<ThreadStateInfo>& out, Walk walk) {
    out.clear();
    auto interp = first_interpreter();
    if (!interp) return std::unexpected(interp.error());
    const auto& t = layout.thread;
    const auto span = thread_state_view(layout).span();  // within the buffer: checked at attach
    std::array<std::byte, thread_state_buffer_size> block{};
    interpreters_walked.clear();
    if (walk == Walk::pass_by) listed.start_walk();
    auto unchanged_thread = [this](const ThreadStateInfo& s) {
        return s.task.host_tid != 0 && unchanged.will_reuse_watched(key_of(s));
    };
    for (std::size_t i = 0; *interp != 0 && i < max_interpreters; ++i) {
        interpreters_walked.push_back(*interp);
        auto tstate = memory.read<RemoteAddress>(field_address(*interp, layout.interpreter.threads_head));
        if (!tstate) return std::unexpected(tstate.error());
        RemoteAddress address = *tstate;
        RemoteAddress from = 0;
        while (address != 0) {
            if (out.size() >= max_threads)
                return fail(ErrorKind::bad_data, "more thread states than any process has: a cycle");
            if (walk == Walk::pass_by) {
                if (const auto* same = listed.passable(address, from, *interp, unchanged_thread)) {
                    out.push_back(*same);
                    out.back().passed_by = true;
                    ++cost.states_passed_by;
                    from = address;
                    address = same->next;
                    continue;
                }
                // (listed_thread_states.hpp: a link passed by was stale.)
                if (listed.met_a_state_twice())
                    return fail(ErrorKind::bad_data,
                                fmt::format("thread state at {:#x} met twice in one walk: the list changed under it",
                                            address));
            }
            if (auto ok = memory.read(address, std::span(block).first(span)); !ok)
                return std::unexpected(ok.error());
            ThreadStateInfo info;
            info.address = address;
            info.interpreter = load<RemoteAddress>(block.data(), t.interp);
            if (info.interpreter != *interp)
                return fail(ErrorKind::bad_data,
                            fmt::format("thread state at {:#x} does not belong to its interpreter", address));
            info.frame_field = load<RemoteAddress>(block.data(), t.frame);
            info.ident = load<std::uint64_t>(block.data(), t.thread_id);
            if (t.native_thread_id != absent)
                info.native_id = static_cast<pid_t>(load<std::uint64_t>(block.data(), t.native_thread_id));
            info.next = load<RemoteAddress>(block.data(), t.next);
            info.reached_from = from;
            out.push_back(info);
            from = address;
            address = info.next;
        }
        auto next = memory.read<RemoteAddress>(field_address(*interp, layout.interpreter.next));
        if (!next) return std::unexpected(next.error());
        *interp = *next;
    }
    return {};
}

// The thread's state read afresh, or nullopt when the thread has ended meanwhile
// (its state is no longer listed, or its place is a new thread's).
Result<std::optional<ThreadStateInfo>> PythonProcess::State::thread_state_again(const ThreadStateInfo& thread) {
    memory.refresh_snapshot();
    std::vector<ThreadStateInfo> states;
    if (auto ok = thread_states(states); !ok) return std::unexpected(ok.error());
    for (const auto& t : states)
        if (t.address == thread.address) return t.ident == thread.ident ? std::optional(t) : std::nullopt;
    return std::nullopt;
}

// A thread that ends frees its thread state, and a thread that starts links a new
// one in: the list can change under the reads that follow it, and then it does not
// hold together (a state that names another interpreter, or memory already freed).
// Read afresh, it does; a list that never holds together is an error.
Result<void> PythonProcess::State::thread_states_settled(Walk walk) {
    auto ok = thread_states(sample_states, walk);
    // The states passed by were vouched for before the walk read memory: their threads
    // must not have run meanwhile (listed_thread_states.hpp).
    if (ok && walk == Walk::pass_by &&
        !listed.vouched_still([this](const ThreadStateInfo& s) { return unchanged.still_unchanged(key_of(s)); }))
        ok = fail(ErrorKind::bad_data, "a thread whose state the walk passed by ran during the walk");
    for (int again = 0; again < 2 && !ok && ok.error().kind != ErrorKind::no_such_process &&
                        ok.error().kind != ErrorKind::permission_denied;
         ++again) {
        ++cost.thread_list_rereads;
        memory.refresh_snapshot();
        ok = thread_states(sample_states);  // all of it: what did not hold together may be what was passed by
    }
    return ok;
}

// A thread being torn down is still listed while its frames are freed (3.11's data
// stack chunks are unmapped before its state is unlinked): its stack cannot be read,
// yet it has not failed, it is ending. So is one read with frames but no OS thread
// (it exited as its state was read). Whichever such thread is no longer listed a
// moment later (read afresh, after every other stack of the sample) ended: it is
// left out, as it will be from the next sample, and not counted as an error.
void PythonProcess::State::find_ended(const std::vector<FailedThread>& failed, std::vector<std::size_t>& ended) {
    if (failed.empty()) return;
    memory.refresh_snapshot();
    std::vector<ThreadStateInfo> now;
    if (!thread_states(now)) return;  // the errors stand
    for (const auto& f : failed) {
        bool still_listed = std::ranges::any_of(now, [&](const auto& t) { return t.address == f.address && t.ident == f.ident; });
        if (!still_listed) ended.push_back(f.index);
    }
}

// Starts the sample's snapshot with one read that brings back last sample's pages,
// checks its code objects and checks that the process still runs the program image
// we attached to: after an exec the old addresses may still be mapped (a non-PIE
// interpreter re-executing itself) and would be read as if nothing had happened.
Result<void> PythonProcess::State::begin_snapshot() {
    // 3.14+: the interpreters' counts of code objects freed come first, so that the
    // code checks after them (where still made) are read later than the counts.
    auto epoch_reads = code_epochs->requests(interpreters_walked);
    auto code_checks = codes->begin_sample(!code_epochs->holding());
    const auto image = identity ? identity->image() : std::nullopt;
    first_reads.clear();
    if (image)
        first_reads.push_back({image->at_random, std::as_writable_bytes(std::span(image_now.random_bytes))});
    first_reads.insert(first_reads.end(), epoch_reads.begin(), epoch_reads.end());
    first_reads.insert(first_reads.end(), code_checks.begin(), code_checks.end());
    auto done = memory.begin_snapshot(first_reads, pages_again);
    const std::size_t image_reads = image ? 1 : 0;
    const std::size_t after_image = done > image_reads ? done - image_reads : 0;
    codes->set_epoch(code_epochs->epoch_after_read(after_image >= epoch_reads.size()));
    codes->prefetched(after_image > epoch_reads.size() ? after_image - epoch_reads.size() : 0);
    if (!image) return {};
    // A failed or different read is an exec, or the process ending: the slow, sure
    // check says which (and that it is not a passing glitch of the read).
    if ((done == 0 || image_now.random_bytes != image->random_bytes) && identity->program_replaced())
        return fail(ErrorKind::program_replaced, fmt::format("process {} replaced its program (exec)", pid));
    return {};
}

RemoteAddress PythonProcess::State::gil_holder(RemoteAddress interpreter) const {
    switch (layout.gil) {
        case GilModel::current_thread_symbol:
            if (current_thread) return memory.read<RemoteAddress>(*current_thread).value_or(0);
            return 0;
        case GilModel::runtime_tstate_current:
            if (runtime) return memory.read<RemoteAddress>(field_address(*runtime, layout.runtime.tstate_current)).value_or(0);
            return 0;
        case GilModel::interpreter_gil: {
            auto gil = memory.read<RemoteAddress>(field_address(interpreter, layout.interpreter.ceval_gil));
            if (!gil || *gil == 0) return 0;
            auto locked = memory.read<std::int32_t>(field_address(*gil, layout.gil_state.locked));
            if (!locked || *locked == 0) return 0;
            return memory.read<RemoteAddress>(field_address(*gil, layout.gil_state.last_holder)).value_or(0);
        }
    }
    return 0;
}

Result<PythonProcess> PythonProcess::attach_as(pid_t pid, DescriptorShare share) {
    if (auto ok = check_process(pid); !ok) return std::unexpected(ok.error());
    // Taken first: a process that cannot be held is not opened at all.
    DescriptorGrant descriptors;
    if (share == DescriptorShare::taken) {
        auto taken = take_process_descriptors(descriptors_per_attached_process);
        if (!taken) return fail(ErrorKind::out_of_descriptors, taken.error());
        descriptors = std::move(*taken);
    }
    auto identity = ProcessIdentity::pin(pid);
    if (!identity) return std::unexpected(identity.error());
    auto s = std::make_unique<State>(pid, std::move(*identity), RemoteMemory(pid));
    s->descriptors = std::move(descriptors);
    s->tasks.emplace(pid);
    auto cmdline = read_cmdline(pid);
    if (!cmdline) return std::unexpected(cmdline.error());
    s->cmdline = std::move(*cmdline);
    auto exe = read_exe_link(pid);
    if (!exe) return std::unexpected(exe.error());
    auto maps = read_proc_maps(pid);
    if (!maps) return std::unexpected(maps.error());
    // Paths as the process sees them (it may run in a chroot): what we report, and
    // what its files are opened by, inside its root.
    auto root = read_process_root(pid);
    if (!root) return std::unexpected(root.error());
    s->exe = path_inside_root(*exe, *root);
    for (auto& m : *maps) m.path = path_inside_root(m.path, *root);

    auto binary = locate_python_binary(pid, *maps, s->exe);
    if (!binary) return std::unexpected(binary.error());
    s->binary = std::move(*binary);
    if (auto ok = s->attach_to_interpreter(); !ok) return std::unexpected(ok.error());
    s->sources = find_source_directories(pid, *root, s->binary.path, s->version.major, s->version.minor);
    return PythonProcess(std::move(s));
}

Result<PythonProcess> PythonProcess::attach_to_address_space(pid_t pid, PythonBinary binary,
                                                             std::shared_ptr<const AddressSpace> memory) {
    auto s = std::make_unique<State>(pid, std::nullopt, RemoteMemory(pid, std::move(memory)));
    s->binary = std::move(binary);
    s->exe = s->binary.path;
    if (auto ok = s->attach_to_interpreter(); !ok) return std::unexpected(ok.error());
    return PythonProcess(std::move(s));
}

// What attach does once the interpreter's file is known: where its state is, which
// version it is, how to read it.
Result<void> PythonProcess::State::attach_to_interpreter() {
    runtime = binary.address_of("_PyRuntime");
    if (!runtime)
        if (auto section = binary.section_in_memory(".PyRuntime")) runtime = section->address;
    interp_head = binary.address_of("interp_head");
    current_thread = binary.address_of("_PyThreadState_Current");

    // Reading fails here first when we may not read the process: say so clearly.
    auto detected = detect_python_version(memory, binary, runtime);
    if (!detected) return std::unexpected(detected.error());
    version = *detected;

    std::optional<DebugOffsetsHeader> debug_header;
    if (runtime) {
        auto h = read_debug_offsets_header(memory, *runtime);
        if (!h) return std::unexpected(h.error());
        debug_header = *h;
    }
    const bool free_threaded = debug_header && debug_header->free_threaded;
    auto base = builtin_layout(version.major, version.minor, free_threaded);
    if (!base && free_threaded)
        return fail(ErrorKind::unsupported_version,
                    fmt::format("process {} runs a free-threaded Python {} (no GIL), which pyprofd does not "
                                "read yet: its objects and bytecode are laid out otherwise, and no such build "
                                "has been tested",
                                pid, version.to_string()));
    if (!base)
        return fail(ErrorKind::unsupported_version, unsupported_version_message(pid, version));
    layout = *base;
    if (!debug_header && debug_offsets_shape(version.major, version.minor, free_threaded) &&
        find_layout_fault(layout))
        return fail(ErrorKind::not_python,
                    fmt::format("process {} runs Python {}, but its _PyRuntime in {} has no _Py_DebugOffsets, "
                                "through which pyprofd reads that version",
                                pid, version.to_string(), binary.path));
    if (debug_header) {
        // Checks every offset it takes from the target against the buffer it is read into.
        auto from_table = layout_from_debug_offsets(memory, *runtime, *debug_header, *base);
        if (!from_table) return std::unexpected(from_table.error());
        layout = *from_table;
        layout_source = LayoutSource::debug_offsets;
    } else if (auto fault = find_layout_fault(layout)) {
        return std::unexpected(
            describe_layout_fault(*fault, fmt::format("pyprofd's built-in layout of Python {}", version.family())));
    }
    if (layout.runtime.interpreters_head != absent ? !runtime : !interp_head)
        return fail(ErrorKind::not_python,
                    fmt::format("cannot find the interpreter list in {}: it has no {} symbol (stripped?)",
                                binary.path, layout.runtime.interpreters_head != absent ? "_PyRuntime" : "interp_head"));

    auto found = find_types(binary, layout);
    if (!found) return std::unexpected(found.error());
    types = *found;
    reader = std::make_unique<ObjectReader>(memory, layout, types);
    codes = std::make_unique<CodeCache>(*reader);
    code_epochs = std::make_unique<CodeEpochs>(layout.interpreter.code_object_generation);
    stack_walker = std::make_unique<FrameWalker>(*reader, *codes);

    // One read proves we may read it and that the interpreter is there.
    if (auto interp = first_interpreter(); !interp) return std::unexpected(interp.error());
    return {};
}

PythonProcess::PythonProcess(std::unique_ptr<State> state) : s_(std::move(state)) {}
PythonProcess::PythonProcess(PythonProcess&&) noexcept = default;
PythonProcess& PythonProcess::operator=(PythonProcess&&) noexcept = default;
PythonProcess::~PythonProcess() = default;

pid_t PythonProcess::pid() const { return s_->pid; }
pid_t PythonProcess::namespace_pid() const { return s_->tasks ? s_->tasks->namespace_pid() : s_->pid; }
const std::vector<std::string>& PythonProcess::command_line() const { return s_->cmdline; }
const std::string& PythonProcess::executable() const { return s_->exe; }
const PythonBinary& PythonProcess::binary() const { return s_->binary; }
const PythonVersion& PythonProcess::version() const { return s_->version; }
const std::string& PythonProcess::working_directory() const { return s_->sources.working_directory; }
const std::string& PythonProcess::standard_library() const { return s_->sources.standard_library; }
const Layout& PythonProcess::layout() const { return s_->layout; }
LayoutSource PythonProcess::layout_source() const { return s_->layout_source; }
std::uint64_t PythonProcess::memory_reads() const { return s_->memory.syscalls(); }
std::uint64_t PythonProcess::memory_bytes_read() const { return s_->memory.bytes_read(); }
std::uint64_t PythonProcess::memory_pages_asked() const { return s_->memory.pages_asked(); }
std::size_t PythonProcess::pages_per_sample() const { return s_->memory.snapshot_pages(); }
const PauseCounts& PythonProcess::pause_counts() const { return s_->pause_counts; }
SampleCost PythonProcess::cost() const {
    SampleCost c = s_->cost;
    c.new_pages_ns = s_->memory.page_miss_ns();
    c.new_page_reads = s_->memory.page_misses();
    if (s_->codes) {
        c.code_header_checks = s_->codes->header_checks();
        c.code_epoch_checks = s_->codes->epoch_checks();
        c.code_stale = s_->codes->stale();
    }
    return c;
}

bool PythonProcess::exited() const { return s_->identity && s_->identity->exited(); }

bool PythonProcess::program_replaced() const { return s_->identity && s_->identity->program_replaced(); }

Result<std::optional<ThreadPause>> PythonProcess::State::pause_threads(const SampleOptions& options,
                                                                       ThreadFacts& facts) {
    if (!options.pause_threads) return std::nullopt;
    // Whether a thread was running must be read before pausing it (a paused thread
    // is in tracing stop, which says nothing of what it was doing).
    if (options.thread_activity)
        if (auto tids = list_threads(pid))
            for (pid_t tid : *tids) facts.activity_before_pause[tid] = activity.read(tid);
    // Stop the GILs' holders only, where the last sample placed them on their threads
    // (pause_proof.hpp); if a GIL moved on meanwhile, stop the rest too.
    const auto holders = gil_holders().read(memory);
    if (auto some = holders_to_stop(holders, state_tasks)) {
        auto paused = ThreadPause::pause_threads(pid, *some, stragglers);
        if (!paused) return std::unexpected(paused.error());
        facts.doubt = doubt_about(gil_holders().read(memory), state_tasks, paused->paused());
        if (facts.doubt == PauseDoubt::none) {
            facts.stage = PauseStage::holders_only;
            return std::move(*paused);
        }
        facts.stage = PauseStage::all_after_stop;
        if (auto ok = paused->pause_the_rest(stragglers); !ok) return std::unexpected(ok.error());
        return std::move(*paused);
    }
    facts.doubt = doubt_about(holders, state_tasks, {});
    facts.stage = PauseStage::all_before;
    auto paused = ThreadPause::pause_all(pid, stragglers);
    if (!paused) return std::unexpected(paused.error());
    return std::move(*paused);
}

void PythonProcess::State::find_tasks(std::vector<ThreadStateInfo>& states) {
    if (tasks) tasks->begin_sample();
    // First the native id, where the version keeps one and it names a task of ours.
    std::vector<ThreadStateInfo*> unresolved;
    for (auto& t : states) {
        // A state passed by is the same thread's, which has not run: its task is
        // the one found before (2.7 to 3.10 would read its pthread descriptor again).
        if (t.passed_by && t.task.host_tid != 0 && (!tasks || tasks->find(t.task.namespace_tid))) continue;
        if (t.native_id != 0) {
            if (!tasks) {
                t.task = {t.native_id, t.native_id};
                continue;
            }
            if (auto task = tasks->find(t.native_id)) {
                t.task = *task;
                continue;
            }
        }
        unresolved.push_back(&t);
    }
    if (!unresolved.empty()) {
        // Then the tid in the thread's pthread descriptor: all a thread state before
        // 3.11 gives, and right after a fork too (the C library's fork updates it, where
        // only the interpreter's own after-fork hook updates the native id). Where it
        // is kept is learnt once, from the ids the process knows its tasks by.
        if (!pthread_tids.known()) {
            std::vector<std::uint64_t> pthreads;
            for (const auto* t : unresolved) pthreads.push_back(t->ident);
            std::vector<pid_t> ids;
            if (tasks)
                for (const auto& task : tasks->list()) ids.push_back(task.namespace_tid);
            else if (auto tids = list_threads(pid))
                ids = *tids;
            pthread_tids.learn(memory, pthreads, ids);
        }
        // A few threads' descriptors come through the snapshot with last sample's
        // pages (no system call of their own); many, in one call of their own rather
        // than a page copied for each.
        std::vector<std::uint64_t> pthreads;
        for (const auto* t : unresolved) pthreads.push_back(t->ident);
        std::vector<pid_t> ids(pthreads.size());
        constexpr std::size_t many_threads = 16;
        if (pthreads.size() > many_threads)
            pthread_tids.tids_of(memory, pthreads, ids);
        else
            for (std::size_t i = 0; i < pthreads.size(); ++i) ids[i] = pthread_tids.tid_of(memory, pthreads[i]);
        std::size_t next_id = 0;
        std::erase_if(unresolved, [&](ThreadStateInfo* t) {
            pid_t id = ids[next_id++];
            if (!tasks) {
                t->task = {id, id};
                return true;
            }
            auto task = tasks->find(id);
            if (task) t->task = *task;
            return task.has_value();
        });
    }
    // Last, a process with one task and one thread state not placed yet: they are
    // each other's (a forked worker whose pthread descriptor could not be read).
    if (unresolved.size() == 1 && tasks) {
        auto all = tasks->list();
        bool taken = std::ranges::any_of(states, [&](const auto& t) { return t.task.host_tid != 0; });
        if (all.size() == 1 && !taken)
            if (auto task = tasks->find(all.front().namespace_tid)) unresolved.front()->task = *task;
    }
    if (tasks) tasks->end_sample();
}

void PythonProcess::State::learn_threads(std::vector<ThreadStateInfo>& states, const SampleOptions& options) {
    find_tasks(states);
    if (options.pause_threads) {
        std::vector<ThreadStateTasks::Entry> entries;
        entries.reserve(states.size());
        for (const auto& t : states) entries.push_back({t.address, t.ident, t.task.host_tid});
        state_tasks.assign(entries);
    }
    if (options.thread_names && !states.empty()) {
        named_threads.clear();
        for (const auto& t : states) named_threads.push_back({t.ident, t.task.host_tid});
        names.refresh_if_stale(*reader, states.front().interpreter, named_threads);
    }
}

ThreadStack PythonProcess::State::thread_stack(const ThreadStateInfo& t, const ThreadFacts& facts) {
    ThreadStack stack;
    stack.ident = t.ident;
    stack.native_id = t.task.host_tid;
    if (t.task.namespace_tid != t.task.host_tid) stack.namespace_tid = t.task.namespace_tid;
    if (auto name = names.name_of(t.ident))
        stack.name = *name;
    else if (stack.native_id == pid)
        stack.name = main_thread_name;  // what threading calls it, before threading is imported
    if (facts.gil_known) stack.holds_gil = facts.gil_holder == t.address;
    return stack;
}

ThreadActivity PythonProcess::State::thread_activity(pid_t native_id, const ThreadFacts& facts) {
    if (!facts.paused) return activity.read(native_id);
    auto it = facts.activity_before_pause.find(native_id);
    return it != facts.activity_before_pause.end() ? it->second : ThreadActivity::unknown;
}

Result<std::optional<std::vector<Frame>>> PythonProcess::State::read_frames(const FrameWalker& walker,
                                                                            const ThreadStateInfo& t,
                                                                            std::size_t& rereads) {
    // The stack is read while the thread runs: it can push and pop frames between
    // our reads (and 3.11's frame chain starts on the C stack, which changes with
    // every call from C), or end. A stack that does not hold together is read up to
    // four times more, afresh, before it counts as an error (threads of a busy Flask
    // server failed two in a row about once in a thousand samples; four, not once in
    // 20,000); a thread that ended meanwhile is left out of the sample (nullopt), as
    // it would be of the next.
    auto frames = walker.walk(t.frame_field);
    for (int again = 0; !frames && frames.error().kind != ErrorKind::no_such_process && again < 4 &&
                        rereads < max_stack_rereads_per_sample;
         ++again, ++rereads) {
        auto fresh = thread_state_again(t);
        if (!fresh) break;
        if (!*fresh) return std::nullopt;
        frames = walker.walk((*fresh)->frame_field);
    }
    if (!frames) return std::unexpected(frames.error());
    return std::move(*frames);
}

void PythonProcess::State::check_reused_stack(const FrameWalker& walker, const ThreadStateInfo& t,
                                              const ThreadKey& key, const FrameList& reused) {
    auto walked = walker.walk(t.frame_field);
    if (unchanged.watch_contradicted(key)) {  // reused on a watch that missed a run
        ++cost.reused_checked;
        ++cost.reused_stale;
        return;
    }
    // Comparable only if the thread did not run during the walk either.
    auto before = unchanged.count_at_start(key);
    auto after = activity.run_count(t.task.host_tid);
    if (!walked || !before || !after || *before != *after) return;
    ++cost.reused_checked;
    auto same = [](const Frame& a, const Frame& b) {
        return a.line == b.line && a.function() == b.function() && a.filename() == b.filename();
    };
    if (!std::ranges::equal(*walked, reused, same)) ++cost.reused_stale;
}

Result<StackSample> PythonProcess::sample(const SampleOptions& options) {
    auto& cost = s_->cost;
    ++cost.samples;
    const auto pause_start = std::chrono::steady_clock::now();
    State::ThreadFacts facts;
    auto pause = s_->pause_threads(options, facts);
    if (!pause) return std::unexpected(pause.error());
    facts.paused = pause->has_value();
    cost.proc_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - pause_start).count());
    auto sample = s_->read_sample(options, facts);
    if (!facts.paused) return sample;
    auto& held = **pause;
    if (facts.stage == PauseStage::holders_only) {
        // Proven exact only if every GIL's word still names a stopped thread now that
        // every read is done (pause_proof.hpp); else read it all again, all stopped.
        facts.doubt = doubt_about(s_->gil_holders().read(s_->memory), s_->state_tasks, held.paused());
        if (facts.doubt != PauseDoubt::none) {
            facts.stage = PauseStage::all_after_reads;
            if (auto ok = held.pause_the_rest(s_->stragglers); !ok) return std::unexpected(ok.error());
            sample = s_->read_sample(options, facts);
        }
    }
    s_->pause_counts.add(facts.stage, facts.doubt, held.paused().size());
    if (sample)
        sample->pause = PauseReport{.threads_stopped = held.paused().size(),
                                    .all_threads = facts.stage != PauseStage::holders_only};
    return sample;
}

Result<StackSample> PythonProcess::State::read_sample(const SampleOptions& options, ThreadFacts& facts) {
    using Clock = std::chrono::steady_clock;
    const bool timed = options.time_phases;
    memory.time_page_misses(timed);
    auto mark = timed ? Clock::now() : Clock::time_point{};
    auto lap = [&mark, timed]() -> std::uint64_t {
        if (!timed) return 0;
        auto now = Clock::now();
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - mark).count();
        mark = now;
        return static_cast<std::uint64_t>(ns);
    };
    // Parked threads' stacks are reused on the proof of their run counts, which must
    // be read before any memory of this sample (see unchanged_stacks.hpp).
    const bool reuse = !facts.paused && options.thread_activity;
    pages_again.clear();
    // The states of threads that did not run are passed by, but for a walk of the
    // whole list every so often (listed_thread_states.hpp says what only that sees),
    // which has their pages read up front.
    auto walk = State::Walk::read_all;
    if (reuse) {
        unchanged.start_sample(activity, options.watch_parked_after, options.check_reused_stacks);
        unchanged.pages_to_read_again(pages_again);
        const auto now = Clock::now();
        if (now < next_full_walk) {
            // (Where no thread can be passed by, as in a server that starts a thread
            // per request, the walk does not look.)
            if (unchanged.provably_unchanged() > 0) walk = State::Walk::pass_by;
        } else {
            next_full_walk = now + whole_list_every;
            listed.append_pages(pages_again, thread_state_view(layout).span());
        }
    } else {
        unchanged.clear();
        listed.clear();  // nothing is passed by without reused stacks
    }
    if (options.after_proofs) options.after_proofs();
    cost.proc_ns += lap();
    // One read brings back last sample's pages and those of threads that ran, checks
    // last sample's code objects and that the program is still the one we attached to.
    struct SnapshotScope {
        const RemoteMemory& memory;
        ~SnapshotScope() { memory.end_snapshot(); }
    } snapshot{memory};
    if (auto ok = begin_snapshot(); !ok) return std::unexpected(ok.error());
    cost.first_read_ns += lap();

    if (auto ok = thread_states_settled(walk); !ok) return std::unexpected(ok.error());
    const auto& states = sample_states;
    // Counts read of other interpreters than these vouch for nothing.
    if (!code_epochs->covers(interpreters_walked)) codes->set_epoch(std::nullopt);
    learn_threads(sample_states, options);
    if (reuse) listed.remember(states);
    facts.gil_known = layout.gil != GilModel::current_thread_symbol || current_thread.has_value();
    if (!states.empty()) facts.gil_holder = gil_holder(states.front().interpreter);
    cost.thread_list_ns += lap();

    // Each thread's ids, name and GIL, and either its unchanged stack or its activity.
    StackSample sample;
    sample.threads.reserve(states.size());
    reused_stacks.assign(states.size(), nullptr);
    for (std::size_t i = 0; i < states.size(); ++i) {
        const auto& t = states[i];
        auto& stack = sample.threads.emplace_back(thread_stack(t, facts));
        if (reuse && t.task.host_tid != 0) reused_stacks[i] = unchanged.unchanged(key_of(t));
        if (reused_stacks[i])
            stack.activity = ThreadActivity::idle;  // off a CPU, and not put on one since
        else if (options.thread_activity)
            stack.activity = thread_activity(stack.native_id, facts);
    }
    cost.threads_ns += lap();

    const FrameWalker& walker = *stack_walker;
    std::size_t frames_in_sample = 0;
    std::size_t rereads = 0;
    std::vector<FailedThread> failed;
    std::vector<std::size_t> ended;  // places in sample.threads, in order
    for (std::size_t i = 0; i < states.size(); ++i) {
        const auto& t = states[i];
        ThreadStack& stack = sample.threads[i];
        if (frames_in_sample >= max_frames_per_sample) {
            stack.error = Error{ErrorKind::bad_data, fmt::format("not read: this sample's threads had {} frames "
                                                                 "already, the most pyprofd reads in one sample",
                                                                 frames_in_sample)};
            continue;
        }
        if (const auto* reused = reused_stacks[i]) {
            ++cost.stacks_reused;
            if (options.check_reused_stacks) check_reused_stack(walker, t, key_of(t), *reused);
            stack.frames = *reused;
            frames_in_sample += stack.frames.size();
            continue;
        }
        ++cost.stacks_read;
        memory.start_touch_log();
        auto frames = read_frames(walker, t, rereads);
        if (frames && !*frames) {  // it ended
            ended.push_back(i);
            continue;
        }
        if (frames) {
            frames_in_sample += (*frames)->size();
            stack.frames = FrameList(std::move(**frames));
            if (reuse && t.task.host_tid != 0)
                unchanged.remember(key_of(t), stack.frames, memory.touch_log(),
                                       stack.activity == ThreadActivity::idle);
            // Frames, but no OS thread: one that exited as its state was read (before
            // 3.8 its task is found through its pthread descriptor, whose id the kernel
            // clears at exit), its frames read as they were freed (seen: 53 of them,
            // on 3.7). Looked for again below, as a failed thread is.
            if (t.task.host_tid == 0 && !stack.frames.empty()) failed.push_back({i, t.address, t.ident});
        } else {
            if (frames.error().kind == ErrorKind::no_such_process) return std::unexpected(frames.error());
            stack.error = frames.error();
            failed.push_back({i, t.address, t.ident});
        }
    }
    find_ended(failed, ended);
    if (!ended.empty()) {
        std::ranges::sort(ended);
        for (auto it = ended.rbegin(); it != ended.rend(); ++it)
            sample.threads.erase(sample.threads.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    if (reuse) unchanged.end_sample();
    cost.reuses_watched = unchanged.watched_reuses();
    cost.stacks_ns += lap();
    if (options.thread_activity && activity.threads_with_files() > 2 * sample.threads.size() + 8) {
        std::vector<pid_t> live;
        for (const auto& t : sample.threads) live.push_back(t.native_id);
        activity.keep_only(live);
    }
    // Alive now means alive through every read above: its PID was not reused meanwhile.
    if (identity && identity->exited())
        return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid));
    return sample;
}

}  // namespace pyprofd::sampler
