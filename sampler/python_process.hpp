#pragma once
// A Python process seen from outside: attach once (find the interpreter, its
// version and layout), then take stack samples of all its threads, as often as
// wanted, without stopping it.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sampler/address_space.hpp"
#include "sampler/layout.hpp"
#include "sampler/pause_proof.hpp"
#include "sampler/python_binary.hpp"
#include "sampler/python_version.hpp"
#include "sampler/stack_trace.hpp"

namespace pyprofd::sampler {

enum class LayoutSource { builtin_table, debug_offsets };

struct SampleOptions {
    bool thread_names = true;     // read threading's names (cached; refreshed for new threads)
    bool thread_activity = true;  // read each thread's state from /proc
    // Blocking mode: the stacks read are exact, as if every thread were stopped for
    // the sample. Only the GILs' holders are stopped where that is proven enough,
    // else every thread (see pause_proof.hpp, thread_pause.hpp).
    bool pause_threads = false;
    // For the tests: read every reused stack too, and where the thread provably did not
    // run meanwhile either, count it stale if it differs (SampleCost::reused_stale).
    bool check_reused_stacks = false;
    // A parked thread whose stack was reused this many samples in a row is watched for
    // being put on a CPU (sched_in_watch.hpp) instead of having its run count read
    // each sample; 0: never. A thread that wakes now and then pays for a watch (about
    // 130 us to arm) only once it has stayed parked this long.
    std::uint32_t watch_parked_after = 16;
    // For the tests: called when the proofs that threads did not run have been read
    // and the sample has read no memory yet. Threads that run, end or start here are
    // what a sample must get right although its proofs predate them.
    std::function<void()> after_proofs;
    // For the benchmarks: time each phase of a sample (SampleCost's _ns figures). A
    // dozen clock readings a sample, a twentieth of a 10 kHz sample's cost: off otherwise.
    bool time_phases = false;
};

// Where a process's sampling time went, summed since attach (for the benchmarks; the
// times only of samples taken with time_phases).
struct SampleCost {
    std::uint64_t samples = 0;
    std::uint64_t first_read_ns = 0;      // the batched read each sample starts with
    std::uint64_t thread_list_ns = 0;     // the thread states, their tasks and names
    std::uint64_t proc_ns = 0;            // /proc: threads' run counts and states, sched-in watches
    // Each thread's ids, name and GIL, its reuse looked up, and the state letter (from
    // /proc) of each thread not reused.
    std::uint64_t threads_ns = 0;
    std::uint64_t stacks_ns = 0;          // walking and decoding stacks, reads of new pages included
    std::uint64_t new_pages_ns = 0;       // of which: reads of pages the snapshot did not hold
    std::uint64_t new_page_reads = 0;     // how many such reads
    std::uint64_t states_passed_by = 0;   // thread states taken from the last walk, not read
    std::uint64_t thread_list_rereads = 0;  // walks read again, afresh, as they did not hold together
    std::uint64_t stacks_read = 0;        // thread stacks walked
    std::uint64_t stacks_reused = 0;      // thread stacks reused (the thread had not run)
    std::uint64_t reuses_watched = 0;     // of which vouched for by a sched-in watch, no /proc read
    std::uint64_t reused_checked = 0;     // check_reused_stacks: reuses compared with a fresh read
    std::uint64_t reused_stale = 0;       // of which the fresh read differed: must stay 0
    std::uint64_t code_header_checks = 0;  // cached code objects checked by reading their header
    std::uint64_t code_epoch_checks = 0;   // those vouched for by the count of code freed (3.14+)
    std::uint64_t code_stale = 0;          // cached code objects found replaced
};

class PythonProcess {
public:
    // What it holds open is counted against process_descriptor_budget() (see
    // descriptor_budget.hpp): taken by attach(), or by its caller already for
    // attach_counted_by_caller() (a daemon session takes a launched program's with
    // the program's). attach_as() is either, as `share` says.
    enum class DescriptorShare { taken, counted_by_caller };
    static Result<PythonProcess> attach(pid_t pid) { return attach_as(pid, DescriptorShare::taken); }
    static Result<PythonProcess> attach_counted_by_caller(pid_t pid) {
        return attach_as(pid, DescriptorShare::counted_by_caller);
    }
    static Result<PythonProcess> attach_as(pid_t pid, DescriptorShare share);
    // A process whose interpreter and memory are given, not found: `memory` holds
    // what its memory would and `binary` the interpreter's symbols. For the attach
    // fuzzer and the unit tests, which build a CPython's memory by hand. Nothing of
    // /proc is read for it but, where a sample asks, `pid`'s thread list and states.
    static Result<PythonProcess> attach_to_address_space(pid_t pid, PythonBinary binary,
                                                         std::shared_ptr<const AddressSpace> memory);

    PythonProcess(PythonProcess&&) noexcept;
    PythonProcess& operator=(PythonProcess&&) noexcept;
    ~PythonProcess();

    pid_t pid() const;
    // Its PID as it sees it: in its own PID namespace (a container), else pid().
    pid_t namespace_pid() const;
    const std::vector<std::string>& command_line() const;
    const std::string& executable() const;
    const PythonBinary& binary() const;
    const PythonVersion& version() const;
    // Where its Python files were named from, as it saw them at attach
    // (source_directories.hpp); empty where unknown, and for attach_to_address_space.
    const std::string& working_directory() const;
    const std::string& standard_library() const;
    const Layout& layout() const;
    LayoutSource layout_source() const;

    // Every thread's stack now. A thread whose stack could not be read carries its
    // error; the call fails only when the process as a whole cannot be read.
    Result<StackSample> sample(const SampleOptions& options = {});

    // Whether the process attached to has exited (a zombie too), whatever its PID names now.
    bool exited() const;
    // Whether the process has exec'd another program since attaching.
    bool program_replaced() const;

    // System calls made reading memory so far (for the benchmarks).
    std::uint64_t memory_reads() const;
    // Bytes those calls copied from the process so far (for the benchmarks).
    std::uint64_t memory_bytes_read() const;
    std::uint64_t memory_pages_asked() const;  // RemoteMemory::pages_asked
    // Memory pages the last sample read (for the benchmarks).
    std::size_t pages_per_sample() const;
    // What blocking mode's pauses did so far (for the benchmarks and tests).
    const PauseCounts& pause_counts() const;
    // Where sampling time went so far (for the benchmarks).
    SampleCost cost() const;

private:
    struct State;
    explicit PythonProcess(std::unique_ptr<State> state);
    std::unique_ptr<State> s_;
};

}  // namespace pyprofd::sampler
