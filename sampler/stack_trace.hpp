#pragma once
// The stack of each Python thread at one instant, as the sampler returns it.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sampler/code_cache.hpp"
#include "sampler/error.hpp"

namespace pyprofd::sampler {

struct Frame {
    std::shared_ptr<const CodeInfo> code;
    int line = -1;  // -1 where the instruction has no line

    const std::string& function() const { return code->function; }
    const std::string& filename() const { return code->filename; }
};

enum class ThreadActivity { running, idle, unknown };

struct ThreadStack {
    pid_t native_id = 0;          // the OS thread id (the host's), 0 where it could not be found
    pid_t namespace_tid = 0;      // its id in the process's own PID namespace, where that differs; else 0
    std::uint64_t ident = 0;      // threading.get_ident(): the pthread_t
    std::string name;             // threading's name, empty where there is none
    std::optional<bool> holds_gil;  // nullopt where the version does not tell
    ThreadActivity activity = ThreadActivity::unknown;
    std::vector<Frame> frames;    // innermost first
    std::optional<Error> error;   // set when this thread's stack could not be read
};

// Blocking mode: how many threads a sample stopped.
struct PauseReport {
    std::size_t threads_stopped = 0;
    // Every thread was stopped, because stopping the GILs' holders alone could not be
    // proven enough (sampler/pause_proof.hpp); else only the holders were.
    bool all_threads = true;
};

struct StackSample {
    std::vector<ThreadStack> threads;
    std::optional<PauseReport> pause;  // in blocking mode
};

const char* to_string(ThreadActivity activity);

}  // namespace pyprofd::sampler
