#pragma once
// Real child processes for the tests: Python targets that run until the test
// ends (and are always killed), and commands run to completion with a time limit.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pyprofd::tests {

struct SpawnOptions {
    std::vector<std::string> argv;
    std::string cwd;                     // empty: inherit
    std::vector<std::string> extra_env;  // "NAME=value"
    std::optional<uid_t> run_as;         // drop to this uid (and gid) before exec
};

class ChildProcess {
public:
    explicit ChildProcess(const SpawnOptions& options);
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();  // SIGKILL and reap

    pid_t pid() const { return pid_; }
    // Reads the child's stdout until a line equal to `line` arrives; false on timeout or exit.
    bool wait_for_line(const std::string& line, std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Takes in what the child has written by now, waiting at most `wait`.
    void read_available(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
    // What the child wrote so far (stdout and stderr together).
    const std::string& output() const { return output_; }
    void kill_now();
    void send(int signal) const;
    // Waits for the child to exit, reading its output meanwhile: its exit status,
    // -N if a signal N ended it, nullopt on timeout (it is left running).
    std::optional<int> wait_for_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::string output_;
};

struct CommandResult {
    int exit_code = -1;  // -1: killed by the time limit or a signal
    std::string out;
    std::string err;
};

CommandResult run_command(const SpawnOptions& options,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Where the tests' own files are.
std::string source_path(const std::string& relative);
std::string pyprofd_binary();

}  // namespace pyprofd::tests
