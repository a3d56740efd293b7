#pragma once
// What a frame label in a profile says: pyprofd and py-spy write Python frames as
// "function (file:line)" or "function (file)"; other tools' folded stacks carry
// bare names (native code: "malloc", "[libc.so.6]"). The kind decides a frame's
// colour, so that a Python user sees their own code apart from the standard
// library, installed packages and native code.
#include <optional>
#include <string>
#include <string_view>

namespace pyprofd::render {

enum class FrameKind {
    own_code,       // the program's own Python files
    standard_library,
    site_packages,  // installed third-party packages
    native,         // no Python file: C code, the kernel, other tools' frames
    idle,           // the marker pyprofd puts under a waiting thread's stack
    thread_root,    // thread "name" (tid), from --threads
    process_root,   // process PID (command line), over each process of a worker tree (--subprocesses)
    truncated,      // "[truncated]": samples of stacks past a profile's limits
};

struct FrameLabel {
    std::string_view function;  // the whole label when it is not "function (file...)"
    std::string_view file;      // empty when there is none
    int line = -1;
};

FrameLabel parse_frame_label(std::string_view label);

// The root frame pyprofd puts over a thread's stacks (--threads, and always for
// formats that keep threads apart): thread "name" (tid), or thread (tid) unnamed.
struct ThreadLabel {
    std::string_view name;  // empty when the thread has none
    long tid = 0;
};
std::optional<ThreadLabel> parse_thread_label(std::string_view label);
// The root frame pyprofd puts over each process's stacks when it follows a process
// and its descendants (--subprocesses): process PID (command line), above the thread
// roots. The command line is made safe as every label is, and bounded.
struct ProcessLabel {
    long pid = 0;
    std::string_view command;
};
std::optional<ProcessLabel> parse_process_label(std::string_view label);
std::string process_label(long pid, std::string_view command);
inline constexpr std::size_t max_process_label_command_bytes = 200;

FrameKind frame_kind(std::string_view label);
const char* to_string(FrameKind kind);

// The label pyprofd gives the leaf it adds under an idle thread's stack.
inline constexpr std::string_view idle_frame_label = "<idle>";

}  // namespace pyprofd::render
