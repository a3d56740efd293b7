#include "sampler/pthread_tid.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "sampler/byte_reads.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {
namespace {


// Where our own C library keeps the tid in our own descriptor: the target usually
// runs the same C library, so this is the first guess.
std::optional<std::size_t> own_tid_offset() {
    auto self = reinterpret_cast<const std::byte*>(pthread_self());
    pid_t tid = ::gettid();
    for (std::size_t off = 0; off + sizeof(pid_t) <= pthread_descriptor_scan; off += sizeof(pid_t)) {
        if (load<pid_t>(self + off) == tid) return off;
    }
    return std::nullopt;
}

}  // namespace

bool PthreadTidResolver::learn(const RemoteMemory& memory, const std::vector<std::uint64_t>& pthreads,
                               const std::vector<pid_t>& tids) {
    if (pthreads.empty()) return false;
    // A few threads tell the offset as surely as all of them, at a bounded cost.
    std::vector<std::array<std::byte, pthread_descriptor_scan>> descriptors(
        std::min(pthreads.size(), max_threads_to_learn_tids_from));
    for (std::size_t i = 0; i < descriptors.size(); ++i)
        if (!memory.read(pthreads[i], descriptors[i])) return false;

    auto fits = [&](std::size_t off) {
        std::vector<pid_t> seen;
        for (const auto& d : descriptors) {
            auto v = load<pid_t>(d.data() + off);
            if (v <= 0 || std::ranges::find(tids, v) == tids.end() || std::ranges::find(seen, v) != seen.end())
                return false;
            seen.push_back(v);
        }
        return true;
    };
    if (auto guess = own_tid_offset(); guess && fits(*guess)) {
        offset_ = guess;
        return true;
    }
    for (std::size_t off = 0; off + sizeof(pid_t) <= pthread_descriptor_scan; off += sizeof(pid_t)) {
        if (fits(off)) {
            offset_ = off;
            return true;
        }
    }
    return false;
}

pid_t PthreadTidResolver::tid_of(const RemoteMemory& memory, std::uint64_t pthread) const {
    if (!offset_ || pthread == 0) return 0;
    auto v = memory.read<pid_t>(pthread + *offset_);
    return v && *v > 0 ? *v : 0;
}

void PthreadTidResolver::tids_of(const RemoteMemory& memory, std::span<const std::uint64_t> pthreads,
                                 std::span<pid_t> tids) const {
    std::ranges::fill(tids, 0);
    if (!offset_) return;
    std::vector<RemoteMemory::ReadRequest> requests;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < pthreads.size() && i < tids.size(); ++i) {
        if (pthreads[i] == 0) continue;
        requests.push_back({pthreads[i] + *offset_, std::as_writable_bytes(tids.subspan(i, 1))});
        which.push_back(i);
    }
    // The kernel stops at the first descriptor it cannot read (a thread that ended):
    // that one stays 0, and the rest are read on.
    for (std::size_t next = 0; next < requests.size();) {
        auto done = memory.read_many(std::span(requests).subspan(next));
        next += done;
        if (next < requests.size()) tids[which[next++]] = 0;
    }
    for (auto& tid : tids)
        if (tid < 0) tid = 0;
}

}  // namespace pyprofd::sampler
