#pragma once
// A Python process seen from outside: attach once (find the interpreter, its
// version and layout), then take stack samples of all its threads, as often as
// wanted, without stopping it.
#include <sys/types.h>

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
};

class PythonProcess {
public:
    static Result<PythonProcess> attach(pid_t pid);
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
    // Memory pages the last sample read (for the benchmarks).
    std::size_t pages_per_sample() const;
    // What blocking mode's pauses did so far (for the benchmarks and tests).
    const PauseCounts& pause_counts() const;

private:
    struct State;
    explicit PythonProcess(std::unique_ptr<State> state);
    std::unique_ptr<State> s_;
};

}  // namespace pyprofd::sampler
