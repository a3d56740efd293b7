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
// A page the last sample used is read again in the next one's first system call,
// but only the part of it that sample touched, with some room around it: most
// pages are touched for a few fields (a thread state, the interpreter's thread
// list, the C frame on a thread's stack), and copying a whole page was a quarter
// of such a read's cost. A read outside the part held reads the whole page, which
// is then read whole for a while (a stack that grows and shrinks around a page's
// edge would otherwise cost an extra read every other sample).
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
    // Reads outside [lowest_mapped_address, highest_user_address) fail without a
    // system call. Linux maps nothing in a process's first page, unless an
    // administrator lowered vm.mmap_min_addr to 0 for an emulator that wants it. User
    // space ends below 2^47 with 4-level page tables, below 2^56 with 5-level ones
    // (x86-64), and below 2^52 on arm64.
    static constexpr RemoteAddress lowest_mapped_address = page_size;
    static constexpr RemoteAddress highest_user_address = RemoteAddress{1} << 56;

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
    // The pages used so far still count as used for the next snapshot. The pages
    // the second look will want first are read again at once, in one system call:
    // those read before the first touch log (the thread list) and those of the
    // current touch log (the walk looked at again).
    void refresh_snapshot() const;
    void end_snapshot() const;

    // The pages reads touched since start_touch_log(), each once: what one thread's
    // walk needed, to be read up front when that thread is walked again. The first
    // call of a snapshot also notes what was touched before it, as the thread list.
    void start_touch_log() const;
    const std::vector<RemoteAddress>& touch_log() const { return touched_; }

    // How many system calls this reader made; the benchmarks report syscalls per sample.
    std::uint64_t syscalls() const { return syscalls_; }
    // Pages the last snapshot used (for the benchmarks).
    std::size_t snapshot_pages() const { return hot_.size(); }
    // Bytes read from the process so far (for the benchmarks and tests).
    std::uint64_t bytes_read() const { return bytes_read_; }
    // Pages the kernel was asked to copy from, counted once per request that spans
    // them: it looks up and pins each page of each request on its own, and on a
    // virtual machine that is about 0.3 us a page against 1.1 us a system call, so
    // this, more than the number of calls, is what a sample's reads cost (for the
    // benchmarks).
    std::uint64_t pages_asked() const { return pages_asked_; }
    // Reads of pages a snapshot did not hold yet, and the time they took: what
    // meeting new threads and new stack pages costs (for the benchmarks).
    std::uint64_t page_misses() const { return page_misses_; }
    std::uint64_t page_miss_ns() const { return page_miss_ns_; }
    // Whether page_miss_ns is kept (two clock readings a miss).
    void time_page_misses(bool on) const { time_page_misses_ = on; }

    // The most pages one snapshot holds (8 MiB): a few hundred threads' stacks. Past
    // it, reads go straight to the process, one system call each.
    static constexpr std::size_t max_snapshot_pages = 2048;
    // A page's part read again is what was touched, widened to whole 64-byte lines
    // and by this much on each side.
    static constexpr std::size_t part_margin = 256;
    // After a read outside the part held, the page is read whole for this many snapshots.
    static constexpr std::uint8_t whole_after_miss = 32;

private:
    // Bytes [lo, hi) of a page.
    struct Part {
        std::uint16_t lo = 0, hi = 0;
        bool empty() const { return hi <= lo; }
        bool covers(std::size_t from, std::size_t to) const { return lo <= from && to <= hi; }
    };
    static constexpr Part whole_page{0, page_size};
    // A page a snapshot used: the part of it to read again next time.
    struct HotPage {
        RemoteAddress page;
        Part part;
        std::uint8_t whole_for = 0;  // snapshots left in which it is read whole
    };

    Result<void> read_direct(RemoteAddress address, std::span<std::byte> out) const;
    Result<void> read_through_snapshot(RemoteAddress address, std::span<std::byte> out) const;
    // Reads what the range [address, address + size) needs that the snapshot does not
    // hold yet (pages not held, and whole pages where only a part is held); false if
    // one could not be read.
    bool load_missing(RemoteAddress address, std::size_t size) const;
    // Reads wanted_ into new slots, with `also`, in as few system calls as unreadable
    // pages allow; returns how many of `also`, from the first, were read completely.
    std::size_t read_wanted(std::span<const ReadRequest> also) const;
    void note_thread_list() const;
    Result<void> fail_read(RemoteAddress address, std::size_t size, ssize_t got, int err) const;
    // The slot holding page, or PageIndex::none.
    std::uint32_t slot_of(RemoteAddress page) const;
    // Bytes [from, to) of the page in slot were read by this snapshot.
    void touch(std::uint32_t slot, std::size_t from, std::size_t to) const;
    std::byte* slot_data(std::size_t slot) const {
        return page_chunks_[slot / pages_per_chunk].get() + slot % pages_per_chunk * page_size;
    }
    // Room for `pages` pages (at most max_snapshot_pages), keeping those held.
    void reserve_pages(std::size_t pages) const;
    void add_page(RemoteAddress page, Part held, std::uint8_t whole_for) const;
    // What of the page in slot to read again in the next snapshot.
    HotPage hot_page(std::size_t slot) const;

    pid_t pid_;
    std::shared_ptr<const AddressSpace> space_;
    mutable std::uint64_t syscalls_ = 0;
    mutable std::uint64_t page_misses_ = 0;
    mutable std::uint64_t page_miss_ns_ = 0;
    mutable bool time_page_misses_ = false;
    mutable bool snapshot_active_ = false;
    // The snapshot: pages_[i] is held at slot_data(i), of which held_[i] was read;
    // index_ finds i by page. The slots grow to what the process needs, up to
    // max_snapshot_pages.
    mutable std::vector<RemoteAddress> pages_;
    mutable std::vector<Part> held_;
    mutable std::vector<Part> touched_part_;  // per page: what reads of this snapshot touched
    mutable std::vector<std::uint8_t> whole_for_;
    mutable PageIndex index_;
    // The slots' bytes, in chunks of pages_per_chunk slots (see reserve_pages).
    static constexpr std::size_t pages_per_chunk = 64;
    static_assert(max_snapshot_pages % pages_per_chunk == 0);
    mutable std::vector<std::unique_ptr<std::byte[]>> page_chunks_;
    mutable std::size_t capacity_pages_ = 0;
    mutable std::size_t last_hit_ = 0;
    mutable std::vector<HotPage> hot_;  // what the previous snapshot used
    mutable std::vector<HotPage> used_before_refresh_;
    mutable bool walks_started_ = false;       // start_touch_log was called in this snapshot
    mutable std::vector<HotPage> thread_list_;  // what was touched before it
    mutable std::uint64_t bytes_read_ = 0;
    mutable std::uint64_t pages_asked_ = 0;
    // The touch log: per slot, the generation it was last logged in.
    mutable bool logging_touches_ = false;
    mutable std::uint32_t touch_generation_ = 0;
    mutable std::vector<std::uint32_t> touch_mark_;
    mutable std::vector<RemoteAddress> touched_;
    mutable int last_failure_errno_ = 0;  // why read_many stopped short
    // Reused from read to read: a sample allocates nothing once warm.
    mutable std::vector<ReadRequest> batch_;
    mutable std::vector<HotPage> wanted_;
    mutable std::vector<std::uint32_t> completing_;  // slots read whole by load_missing
    mutable std::vector<iovec> local_iov_, remote_iov_;
};

}  // namespace pyprofd::sampler
