#pragma once
// Before 3.11 a thread state records only the pthread_t of its thread, not the OS
// thread id. With glibc (and musl) a pthread_t is the address of the thread's
// descriptor, which holds the kernel tid at a fixed offset: find that offset once,
// check it against the target's /proc task list, then read tids from it.
#include <sys/types.h>

#include <optional>
#include <span>
#include <vector>

#include "sampler/remote_memory.hpp"

namespace pyprofd::sampler {

class PthreadTidResolver {
public:
    // Learns the offset from the given pthread_t values of the target; `tids` are the
    // target's thread ids from /proc. Returns whether an offset was found.
    bool learn(const RemoteMemory& memory, const std::vector<std::uint64_t>& pthreads,
               const std::vector<pid_t>& tids);

    bool known() const { return offset_.has_value(); }
    // The OS thread id of a pthread_t, or 0.
    pid_t tid_of(const RemoteMemory& memory, std::uint64_t pthread) const;
    // The OS thread ids of many, each 0 where it could not be read, in one system
    // call: each descriptor lies on its thread's own stack, a page apart from the
    // others, and through the sample's page snapshot 160 threads cost 160 pages
    // copied each sample for 4 bytes each.
    void tids_of(const RemoteMemory& memory, std::span<const std::uint64_t> pthreads, std::span<pid_t> tids) const;

private:
    std::optional<std::size_t> offset_;
};

}  // namespace pyprofd::sampler
