#pragma once
// Which processes on this host run CPython, told cheaply from /proc and the
// interpreters' files alone: no process is attached, stopped or read from (no ptrace,
// no process_vm_readv). A process that is not Python is looked at only through its
// /proc/PID/exe and maps; a Python one also through its status, stat, cmdline, root
// and namespaces. Each process's files are read through its /proc directory, held
// open: all of one process, even if its PID passes to another meanwhile. For the
// daemon's list of the processes a caller may profile (GET /processes).
//
// A process is taken for Python when it maps a libpython*.so or its executable is
// named python*, and the first of those files that defines the interpreter
// (sampler/python_binary's test, as an attach makes it) gives its version
// (sampler/interpreter_file_facts). What a file says is remembered by the file's
// identity (device, inode, size, times), so a host of a thousand workers of one
// Python reads its file once, and the files read anew per scan are bounded: past
// that bound a process is listed on its name's word, its version not yet known.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sampler/error.hpp"
#include "sampler/interpreter_file_facts.hpp"
#include "sampler/python_version.hpp"

namespace pyprofd::sampler {

struct PythonProcessListing {
    pid_t pid = 0;
    uid_t uid = 0;                          // the real uid, as /proc/PID/status says
    std::optional<PythonVersion> version;   // none where its file was not read (yet) or does not say
    std::vector<std::string> command_line;  // bytes as they are; see max_command_line_bytes
    unsigned threads = 0;
    std::chrono::system_clock::time_point started;
    bool other_pid_namespace = false;    // another PID namespace than the scanning process's
    // Another mount namespace than init's (PID 1's), where that can be read, else the
    // scanning process's: a daemon under systemd has a mount namespace of its own.
    bool other_mount_namespace = false;
    std::string executable;              // /proc/PID/exe, as the process sees it (inside its root)
};

struct PythonProcessScanResult {
    std::vector<PythonProcessListing> processes;  // by PID
    std::vector<pid_t> unreadable;                // looked like Python, but could not be read
};

class PythonProcessScan {
public:
    // A command line is read up to this many bytes (the kernel keeps up to megabytes);
    // an argument cut there ends with "…".
    static constexpr std::size_t max_command_line_bytes = 4096;
    // Of /proc/PID/maps, at most this many bytes are read: a real process's is tens of
    // kilobytes, and one that maps 65 530 files of long names would cost hundreds of
    // megabytes. A libpython mapped past it is not seen: a process named python* whose
    // executable holds no interpreter then counts as unreadable (skipped).
    static constexpr std::size_t max_maps_bytes = std::size_t{4} << 20;
    // Of status and stat, at most this many bytes (they are a few kilobytes).
    static constexpr std::size_t max_status_bytes = 64 * 1024;
    // Candidate files per process: the first libpythons mapped (libpython3.so, the
    // stable ABI's, defines nothing and may come first), then the executable.
    static constexpr std::size_t max_libpython_candidates = 8;
    // Interpreter files read anew per scan, at most; further ones wait for a later scan.
    static constexpr std::size_t default_files_read_per_scan = 16;
    // Files remembered, at most; past it, the memory starts afresh.
    static constexpr std::size_t max_files_remembered = 256;

    explicit PythonProcessScan(std::size_t files_read_per_scan = default_files_read_per_scan)
        : files_read_per_scan_(files_read_per_scan) {}

    // Every process of /proc, by PID; with only_uid, only those whose effective uid it
    // is (the others are passed over before their maps are read). Processes that end while
    // looked at are left out, quietly.
    PythonProcessScanResult scan(std::optional<uid_t> only_uid = std::nullopt);

    // One process, as scan sees it.
    enum class Verdict { not_python, gone, unreadable };
    std::expected<PythonProcessListing, Verdict> inspect(pid_t pid);

    // How many interpreter files this scan has read in all (for tests of the memory).
    std::size_t files_read() const;

private:
    struct Context;
    struct FileKey {
        std::uint64_t device, inode, size;
        std::int64_t modified_ns, changed_ns;
        auto operator<=>(const FileKey&) const = default;
    };
    using FileFacts = std::optional<Result<InterpreterFileFacts>>;  // none: not read, the scan's bound reached

    std::expected<PythonProcessListing, Verdict> inspect(pid_t pid, Context& context, std::optional<uid_t> only_uid);
    FileFacts facts_of(const RegularFile& file, const std::string& path, Context& context);

    const std::size_t files_read_per_scan_;
    mutable std::mutex mutex_;  // guards files_ and files_read_; a leaf
    std::map<FileKey, Result<InterpreterFileFacts>> files_;
    std::size_t files_read_ = 0;
};

}  // namespace pyprofd::sampler
