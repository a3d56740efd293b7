#pragma once
// Reads another process's memory with process_vm_readv: no ptrace stop, no
// signal, the target keeps running. Every read can race with the target.
//
// During a sample, reads go through a snapshot: each 4 KiB page touched is read
// once and served from the copy after that. A stack's frames lie close together
// (3.11+ frames in one data-stack chunk; older frame objects in a few pymalloc
// pools), so a 50-deep stack costs a couple of reads, not fifty, and the frames
// of one sample are read at nearly one instant.
//
// The bytes come from an AddressSpace: the process itself, or a buffer posing as one.
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>
#include <type_traits>
#include <vector>

#include "sampler/address_space.hpp"
#include "sampler/error.hpp"
#include "sampler/page_index.hpp"

namespace pyprofd::sampler {

using RemoteAddress = std::uint64_t;

class RemoteMemory {
public:
    static constexpr std::size_t page_size = 4096;

    // The memory of process pid.
    explicit RemoteMemory(pid_t pid) : pid_(pid), space_(std::make_shared<ProcessAddressSpace>(pid)) {}
    // Memory read from `space`, as if it were process pid's (which errors name).
    RemoteMemory(pid_t pid, std::shared_ptr<const AddressSpace> space) : pid_(pid), space_(std::move(space)) {}

    pid_t pid() const { return pid_; }

    // Reads exactly out.size() bytes at address, or fails.
    Result<void> read(RemoteAddress address, std::span<std::byte> out) const;

    template <class T>
        requires std::is_trivially_copyable_v<T>
    Result<T> read(RemoteAddress address) const {
        T value{};
        auto bytes = std::as_writable_bytes(std::span<T, 1>(&value, 1));
        if (auto ok = read(address, bytes); !ok) return std::unexpected(ok.error());
        return value;
    }

    // Many small reads in one system call, bypassing the snapshot. Returns how many
    // of the requests, from the first, were read completely.
    struct ReadRequest {
        RemoteAddress address;
        std::span<std::byte> out;
    };
    std::size_t read_many(std::span<const ReadRequest> requests) const;

    // Pages read from here until end_snapshot() are kept and reused. The pages the
    // previous snapshot used are read again at once, in one system call together
    // with `also_pages` (pages the caller expects this sample to need: those of a
    // thread that ran since it was last read) and `also` (small reads the caller
    // wants now); returns how many of `also`, from the first, were read completely.
    std::size_t begin_snapshot(std::span<const ReadRequest> also = {},
                               std::span<const RemoteAddress> also_pages = {}) const;
    // Forgets the pages read so far in this snapshot, so that what follows is read
    // afresh: for a second look at a thread whose stack changed under the first.
    // The pages used so far still count as used for the next snapshot.
    void refresh_snapshot() const;
    void end_snapshot() const;

    // The pages reads touched since start_touch_log(), each once: what one thread's
    // walk needed, to be read up front when that thread is walked again.
    void start_touch_log() const;
    const std::vector<RemoteAddress>& touch_log() const { return touched_; }

    // How many system calls this reader made; the benchmarks report syscalls per sample.
    std::uint64_t syscalls() const { return syscalls_; }
    // Pages the last snapshot used (for the benchmarks).
    std::size_t snapshot_pages() const { return hot_pages_.size(); }
    // Reads of pages a snapshot did not hold yet, and the time they took: what
    // meeting new threads and new stack pages costs (for the benchmarks).
    std::uint64_t page_misses() const { return page_misses_; }
    std::uint64_t page_miss_ns() const { return page_miss_ns_; }
    // Whether page_miss_ns is kept (two clock readings a miss).
    void time_page_misses(bool on) const { time_page_misses_ = on; }

    // The most pages one snapshot holds (8 MiB): a few hundred threads' stacks. Past
    // it, reads go straight to the process, one system call each.
    static constexpr std::size_t max_snapshot_pages = 2048;

private:
    Result<void> read_direct(RemoteAddress address, std::span<std::byte> out) const;
    Result<void> read_through_snapshot(RemoteAddress address, std::span<std::byte> out) const;
    // Reads the pages of the range not in the snapshot yet; false if one could not be read.
    bool load_pages(RemoteAddress first_page, std::size_t count) const;
    Result<void> fail_read(RemoteAddress address, std::size_t size, ssize_t got, int err) const;
    const std::byte* page_data(RemoteAddress page) const;
    std::byte* slot_data(std::size_t slot) const { return page_data_.get() + slot * page_size; }
    // Room for `pages` pages (at most max_snapshot_pages), keeping those held.
    void reserve_pages(std::size_t pages) const;
    void add_page(RemoteAddress page, bool used) const;

    pid_t pid_;
    std::shared_ptr<const AddressSpace> space_;
    mutable std::uint64_t syscalls_ = 0;
    mutable std::uint64_t page_misses_ = 0;
    mutable std::uint64_t page_miss_ns_ = 0;
    mutable bool time_page_misses_ = false;
    mutable bool snapshot_active_ = false;
    // The snapshot: pages_[i] is held at slot_data(i); index_ finds i by page. The
    // buffer grows to what the process needs, up to max_snapshot_pages.
    mutable std::vector<RemoteAddress> pages_;
    mutable PageIndex index_;
    mutable std::unique_ptr<std::byte[]> page_data_;
    mutable std::size_t capacity_pages_ = 0;
    mutable std::vector<bool> used_;  // per page: touched by a read of this snapshot
    mutable std::size_t last_hit_ = 0;
    mutable std::vector<RemoteAddress> hot_pages_;  // what the previous snapshot used
    mutable std::vector<RemoteAddress> used_before_refresh_;
    // The touch log: per slot, the generation it was last logged in.
    mutable bool logging_touches_ = false;
    mutable std::uint32_t touch_generation_ = 0;
    mutable std::vector<std::uint32_t> touch_mark_;
    mutable std::vector<RemoteAddress> touched_;
    mutable int last_failure_errno_ = 0;  // why read_many stopped short
    // Reused from read to read: a sample allocates nothing once warm.
    mutable std::vector<ReadRequest> batch_;
    mutable std::vector<RemoteAddress> wanted_;
    mutable std::vector<iovec> local_iov_, remote_iov_;
};

}  // namespace pyprofd::sampler
