#pragma once
// Which process a PID named when we attached. PIDs are reused: once a target exits
// and is reaped, its number may name another process, and reading that one would
// show (and leak) someone else's stacks. A pidfd (Linux 5.3+) stays bound to the
// process it was opened for and becomes readable when that process exits, even
// before it is reaped; where there is none, the start time from /proc/PID/stat
// tells a new process from the old.
//
// A sample is trusted only if the process has not exited by the time the sample
// is complete: its PID cannot have been reused during the reads before that.
//
// exec keeps the PID, the pidfd and the start time. A process that exec'd another
// executable shows it in /proc/PID/exe; one that exec'd the same executable (a
// server re-executing itself) does not, so each program image is also told apart
// by the 16 random bytes the kernel puts on its new stack at every exec (AT_RANDOM
// in the auxiliary vector): where they are and what they hold.
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

class ProcessIdentity {
public:
    static Result<ProcessIdentity> pin(pid_t pid);
    ProcessIdentity(ProcessIdentity&& other) noexcept;
    ProcessIdentity& operator=(ProcessIdentity&& other) noexcept;
    ProcessIdentity(const ProcessIdentity&) = delete;
    ProcessIdentity& operator=(const ProcessIdentity&) = delete;
    ~ProcessIdentity();

    // Whether the process we attached to has exited (a zombie too), or its PID names
    // another now.
    bool exited() const;
    // Whether it runs another program than when pinned (it called exec): the same
    // process, but no longer the interpreter we learned to read.
    bool program_replaced() const;
    std::uint64_t start_time() const { return start_time_; }  // clock ticks after boot

    // The program image running when pinned: where its AT_RANDOM bytes are and what
    // they held. A sampler reads them along with its first read of each sample, at
    // no extra cost, to notice an exec at once; nothing if they could not be read.
    struct ImageId {
        std::uint64_t at_random = 0;
        std::array<unsigned char, 16> random_bytes{};
        bool operator==(const ImageId&) const = default;
    };
    const std::optional<ImageId>& image() const { return image_; }
    bool has_pidfd() const { return pidfd_ >= 0; }

private:
    struct FileId {
        std::uint64_t device = 0, inode = 0;
        bool operator==(const FileId&) const = default;
    };
    static std::optional<FileId> executable_of(pid_t pid);
    static std::optional<ImageId> image_of(pid_t pid);
    ProcessIdentity(pid_t pid, int pidfd, std::uint64_t start_time, std::optional<FileId> executable,
                    std::optional<ImageId> image)
        : pid_(pid), pidfd_(pidfd), start_time_(start_time), executable_(executable), image_(image) {}

    pid_t pid_ = 0;
    int pidfd_ = -1;
    std::uint64_t start_time_ = 0;
    std::optional<FileId> executable_;  // /proc/PID/exe when pinned
    std::optional<ImageId> image_;      // the program image running when pinned
};

// Field 22 of /proc/PID/stat (clock ticks after boot), or nothing when the process is gone.
std::optional<std::uint64_t> process_start_time(pid_t pid);
// The same of a /proc/PID/stat line read already.
std::optional<std::uint64_t> start_time_in(std::string_view stat);

}  // namespace pyprofd::sampler
