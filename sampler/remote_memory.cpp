#include "sampler/remote_memory.hpp"

#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {
namespace {

// Reads bigger than this (long line tables, big strings) go straight through.
constexpr std::size_t largest_snapshot_read = 4 * RemoteMemory::page_size;
constexpr std::size_t max_snapshot_pages = RemoteMemory::max_snapshot_pages;

constexpr RemoteAddress page_of(RemoteAddress address) { return address & ~RemoteAddress(RemoteMemory::page_size - 1); }

constexpr std::uint64_t pages_spanned(RemoteAddress address, std::size_t size) {
    return size == 0 ? 0 : (page_of(address + size - 1) - page_of(address)) / RemoteMemory::page_size + 1;
}

}  // namespace

Result<void> RemoteMemory::fail_read(RemoteAddress address, std::size_t size, ssize_t got, int err) const {
    if (got >= 0)
        return fail(ErrorKind::read_failed, fmt::format("short read at {:#x}: {} of {} bytes", address, got, size));
    switch (err) {
        case ESRCH:
            return fail(ErrorKind::no_such_process, fmt::format("process {} has exited", pid_));
        case EPERM:
            return fail(ErrorKind::permission_denied,
                        fmt::format("not allowed to read the memory of process {}: run as root or "
                                    "with CAP_SYS_PTRACE",
                                    pid_));
        default:
            return fail(ErrorKind::read_failed,
                        fmt::format("read of {} bytes at {:#x} failed: {}", size, address, std::strerror(err)));
    }
}

Result<void> RemoteMemory::read(RemoteAddress address, std::span<std::byte> out) const {
    if (out.empty()) return {};
    if (address == 0) return fail(ErrorKind::read_failed, "read of a null pointer");
    // A pointer the target holds may be anything. One read as its stack changes (a
    // frame's `previous` where another frame's locals now lie) is often a small
    // number or not an address at all: a fifth of a thread-per-request server's
    // samples at 10 kHz met one. No process has memory there, so the kernel is not
    // asked (its answer, EFAULT, cost a system call each); the walk fails as it would
    // have. A range past the top (which would also wrap the page arithmetic below) is
    // no range either.
    if (address < lowest_mapped_address)
        return fail(ErrorKind::read_failed, fmt::format("read at {:#x}: no process maps the first page", address));
    if (address >= highest_user_address || out.size() > highest_user_address - address)
        return fail(ErrorKind::read_failed, fmt::format("read of {} bytes at {:#x} runs past the end of the user "
                                                        "address space",
                                                        out.size(), address));
    if (snapshot_active_ && out.size() <= largest_snapshot_read) return read_through_snapshot(address, out);
    return read_direct(address, out);
}

Result<void> RemoteMemory::read_direct(RemoteAddress address, std::span<std::byte> out) const {
    iovec local{out.data(), out.size()};
    iovec remote{reinterpret_cast<void*>(address), out.size()};
    ++syscalls_;
    pages_asked_ += pages_spanned(address, out.size());
    ssize_t n = space_->read({&local, 1}, {&remote, 1});
    if (n > 0) bytes_read_ += static_cast<std::uint64_t>(n);
    if (n == static_cast<ssize_t>(out.size())) return {};
    return fail_read(address, out.size(), n, errno);
}

std::uint32_t RemoteMemory::slot_of(RemoteAddress page) const {
    // Reads come in runs on one page (a frame's fields, then the next frame beside it).
    if (last_hit_ < pages_.size() && pages_[last_hit_] == page) return static_cast<std::uint32_t>(last_hit_);
    auto slot = index_.find(page);
    if (slot != PageIndex::none) last_hit_ = slot;
    return slot;
}

void RemoteMemory::touch(std::uint32_t slot, std::size_t from, std::size_t to) const {
    Part& part = touched_part_[slot];
    if (part.empty()) {
        part = {static_cast<std::uint16_t>(from), static_cast<std::uint16_t>(to)};
    } else {
        part.lo = std::min(part.lo, static_cast<std::uint16_t>(from));
        part.hi = std::max(part.hi, static_cast<std::uint16_t>(to));
    }
    if (logging_touches_ && touch_mark_[slot] != touch_generation_) {
        touch_mark_[slot] = touch_generation_;
        touched_.push_back(pages_[slot]);
    }
}

namespace {

// Has the kernel fault in the chunk's pages in one call (Linux 5.14+), not one fault
// a page as they are first written, which on a virtual machine is an exit each
// (the first sample of a process of many threads fills hundreds). A chunk's slots are
// mostly all used in time; at most one chunk a process holds pages it never uses.
// Where the kernel cannot, they fault in as before.
void populate(std::byte* bytes, std::size_t size) {
#ifdef MADV_POPULATE_WRITE
    const auto at = reinterpret_cast<std::uintptr_t>(bytes);
    const auto start = page_of(at + RemoteMemory::page_size - 1), end = page_of(at + size);  // whole pages inside
    if (end > start) (void)::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE);
#else
    (void)bytes;
    (void)size;
#endif
}

}  // namespace

void RemoteMemory::reserve_pages(std::size_t pages) const {
    pages = std::min(pages, max_snapshot_pages);
    // The slots' bytes: new chunks beside the old, which stay where they are, so that
    // growing copies nothing and touches no memory but the new. (One buffer grown by
    // doubling copied what it held each time, into memory the kernel then faulted in
    // page by page: a few milliseconds of the first sample of 160 threads.) Not
    // zeroed: a slot's bytes are read only where they were written (held_).
    while (page_chunks_.size() * pages_per_chunk < pages) {
        auto& chunk = page_chunks_.emplace_back(new std::byte[pages_per_chunk * page_size]);
        populate(chunk.get(), pages_per_chunk * page_size);
    }
    // The index and the per-slot records grow by doubling.
    if (pages <= capacity_pages_) return;
    std::size_t capacity = std::max<std::size_t>(capacity_pages_, pages_per_chunk);
    while (capacity < pages) capacity *= 2;
    capacity = std::min(capacity, max_snapshot_pages);
    capacity_pages_ = capacity;
    index_.reserve(capacity);
}

void RemoteMemory::add_page(RemoteAddress page, Part held, std::uint8_t whole_for) const {
    index_.insert(page, static_cast<std::uint32_t>(pages_.size()));
    pages_.push_back(page);
    held_.push_back(held);
    touched_part_.push_back({});
    whole_for_.push_back(whole_for);
    if (touch_mark_.size() < pages_.size()) touch_mark_.resize(capacity_pages_, 0);
    touch_mark_[pages_.size() - 1] = 0;
}

bool RemoteMemory::load_missing(RemoteAddress address, std::size_t size) const {
    // The pages of the range not held, and those held only in part where the range
    // goes past the part, read whole together: one system call.
    const RemoteAddress first = page_of(address);
    const auto pages = static_cast<std::size_t>(pages_spanned(address, size));
    wanted_.clear();
    completing_.clear();
    for (std::size_t i = 0; i < pages; ++i) {
        const RemoteAddress page = first + i * page_size;
        auto slot = slot_of(page);
        if (slot == PageIndex::none) {
            wanted_.push_back({page, whole_page});
            continue;
        }
        const std::size_t from = std::max(page, address) - page;
        const std::size_t to = std::min(page_size - 1, address + size - 1 - page) + 1;
        if (!held_[slot].covers(from, to)) completing_.push_back(slot);
    }
    if (wanted_.empty() && completing_.empty()) return true;
    reserve_pages(pages_.size() + wanted_.size());
    batch_.clear();
    for (auto slot : completing_) batch_.push_back({pages_[slot], std::span(slot_data(slot), page_size)});
    for (std::size_t i = 0; i < wanted_.size(); ++i)
        batch_.push_back({wanted_[i].page, std::span(slot_data(pages_.size() + i), page_size)});
    auto started = time_page_misses_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto done = read_many(batch_);
    ++page_misses_;
    if (time_page_misses_)
        page_miss_ns_ += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < done; ++i) {
        if (i < completing_.size()) {
            held_[completing_[i]] = whole_page;
            whole_for_[completing_[i]] = whole_after_miss;
        } else {
            add_page(batch_[i].address, whole_page, 0);
        }
    }
    return done == batch_.size();
}

Result<void> RemoteMemory::read_through_snapshot(RemoteAddress address, std::span<std::byte> out) const {
    RemoteAddress first = page_of(address);
    const auto pages = static_cast<std::size_t>(pages_spanned(address, out.size()));
    if (pages_.size() + pages > max_snapshot_pages) return read_direct(address, out);
    // An unreadable page: what failed is said as a direct read would say it. Within
    // one page (a frame's fields, the common case) the page's own read already said
    // it; a direct read would fail the same way, a system call later.
    if (!load_missing(address, out.size())) {
        if (pages == 1) return fail_read(address, out.size(), -1, last_failure_errno_);
        return read_direct(address, out);
    }
    std::size_t copied = 0;
    for (std::size_t i = 0; i < pages; ++i) {
        const RemoteAddress page = first + i * page_size;
        auto slot = slot_of(page);
        const std::size_t from = std::max(page, address) - page;
        const std::size_t to = std::min(page_size - 1, address + out.size() - 1 - page) + 1;
        touch(slot, from, to);
        std::memcpy(out.data() + copied, slot_data(slot) + from, to - from);
        copied += to - from;
    }
    return {};
}

std::size_t RemoteMemory::read_many(std::span<const ReadRequest> requests) const {
    std::size_t done = 0;
    while (done < requests.size()) {
        auto batch = requests.subspan(done, std::min<std::size_t>(requests.size() - done, IOV_MAX));
        local_iov_.clear();
        remote_iov_.clear();
        std::size_t bytes = 0;
        for (const auto& r : batch) {
            local_iov_.push_back({r.out.data(), r.out.size()});
            remote_iov_.push_back({reinterpret_cast<void*>(r.address), r.out.size()});
            bytes += r.out.size();
            pages_asked_ += pages_spanned(r.address, r.out.size());
        }
        ++syscalls_;
        ssize_t n = space_->read(local_iov_, remote_iov_);
        if (n > 0) bytes_read_ += static_cast<std::uint64_t>(n);
        if (n == static_cast<ssize_t>(bytes)) {
            done += batch.size();
            continue;
        }
        // Partial: the kernel stops at the first request it cannot read.
        last_failure_errno_ = n < 0 ? errno : EFAULT;
        std::size_t got = n < 0 ? 0 : static_cast<std::size_t>(n);
        for (const auto& r : batch) {
            if (got < r.out.size()) break;
            got -= r.out.size();
            ++done;
        }
        return done;
    }
    return done;
}

std::size_t RemoteMemory::begin_snapshot(std::span<const ReadRequest> also,
                                         std::span<const RemoteAddress> also_pages) const {
    pages_.clear();
    held_.clear();
    touched_part_.clear();
    whole_for_.clear();
    last_hit_ = 0;
    snapshot_active_ = true;
    walks_started_ = false;

    // Last sample's pages (their parts) and the other pages the caller expects
    // (whole), each once.
    index_.clear();
    wanted_.clear();
    for (const auto& hot : hot_) {
        if (wanted_.size() >= max_snapshot_pages) break;
        if (index_.find(hot.page) != PageIndex::none) continue;
        index_.insert(hot.page, static_cast<std::uint32_t>(wanted_.size()));
        wanted_.push_back(hot);
    }
    for (auto page : also_pages) {
        // One the last sample used comes in the part it used, like the others: an
        // expected page is one a thread touched when it last ran, maybe long ago.
        if (index_.find(page) != PageIndex::none) continue;
        if (wanted_.size() >= max_snapshot_pages) break;
        index_.insert(page, static_cast<std::uint32_t>(wanted_.size()));
        wanted_.push_back({page, whole_page});
    }
    index_.clear();
    return read_wanted(also);
}

std::size_t RemoteMemory::read_wanted(std::span<const ReadRequest> also) const {
    reserve_pages(pages_.size() + wanted_.size());
    // Those pages and the caller's reads, together. A page that cannot be read any
    // more (a thread ended and its stack was unmapped) stops the kernel at that page:
    // it is left out and the rest read on, rather than each of the rest being read
    // on its own later.
    std::size_t next = 0;
    for (;;) {
        batch_.clear();
        for (std::size_t i = next; i < wanted_.size(); ++i) {
            const auto& want = wanted_[i];
            batch_.push_back({want.page + want.part.lo,
                              std::span(slot_data(pages_.size() + i - next) + want.part.lo,
                                        static_cast<std::size_t>(want.part.hi - want.part.lo))});
        }
        const std::size_t pages_in_batch = batch_.size();
        batch_.insert(batch_.end(), also.begin(), also.end());
        auto done = read_many(batch_);
        for (std::size_t i = 0; i < std::min(done, pages_in_batch); ++i)
            add_page(wanted_[next + i].page, wanted_[next + i].part, wanted_[next + i].whole_for);
        if (done >= pages_in_batch) return done - pages_in_batch;
        // Only an unmapped page is worth reading past; a process that is gone or no
        // longer ours fails every read, and the sample's first read will say so.
        if (last_failure_errno_ != EFAULT) return 0;
        next += done + 1;  // past the page that failed
    }
}

RemoteMemory::HotPage RemoteMemory::hot_page(std::size_t slot) const {
    if (whole_for_[slot] > 0) return {pages_[slot], whole_page, static_cast<std::uint8_t>(whole_for_[slot] - 1)};
    // Whole 64-byte lines, and room on each side: a stack one frame deeper, or a
    // field beside one read, is still inside.
    const Part& touched = touched_part_[slot];
    const std::size_t line = 64;
    const std::size_t lo = touched.lo / line * line;
    const std::size_t hi = (touched.hi + line - 1) / line * line;
    return {pages_[slot],
            {static_cast<std::uint16_t>(lo > part_margin ? lo - part_margin : 0),
             static_cast<std::uint16_t>(std::min(hi + part_margin, page_size))}};
}

void RemoteMemory::note_thread_list() const {
    thread_list_.clear();
    for (std::size_t i = 0; i < pages_.size(); ++i)
        if (!touched_part_[i].empty()) thread_list_.push_back(hot_page(i));
}

void RemoteMemory::refresh_snapshot() const {
    if (!walks_started_) note_thread_list();
    // What a second look reads first: the thread list again, and the pages of the
    // walk that is looked at again (whole: its stack changed). Read in one system
    // call now, rather than one page at a time as the second look touches them.
    index_.clear();
    wanted_.clear();
    auto want = [&](const HotPage& page) {
        if (index_.find(page.page) != PageIndex::none || wanted_.size() >= max_snapshot_pages) return;
        index_.insert(page.page, static_cast<std::uint32_t>(wanted_.size()));
        wanted_.push_back(page);
    };
    for (const auto& page : thread_list_) want(page);
    if (logging_touches_)
        for (auto page : touched_) want({page, whole_page});
    for (std::size_t i = 0; i < pages_.size(); ++i)
        if (!touched_part_[i].empty()) used_before_refresh_.push_back(hot_page(i));
    pages_.clear();
    held_.clear();
    touched_part_.clear();
    whole_for_.clear();
    index_.clear();
    last_hit_ = 0;
    read_wanted({});
}

void RemoteMemory::start_touch_log() const {
    if (!walks_started_) {
        walks_started_ = true;
        note_thread_list();
    }
    logging_touches_ = true;
    touched_.clear();
    if (++touch_generation_ == 0) {  // wrapped: no slot may look logged already
        std::fill(touch_mark_.begin(), touch_mark_.end(), 0);
        touch_generation_ = 1;
    }
}

void RemoteMemory::end_snapshot() const {
    snapshot_active_ = false;
    logging_touches_ = false;
    hot_.clear();
    for (std::size_t i = 0; i < pages_.size(); ++i)
        if (!touched_part_[i].empty()) hot_.push_back(hot_page(i));
    if (!used_before_refresh_.empty()) {
        // A page used before and after a refresh is read again as the union of both parts.
        index_.clear();
        for (std::size_t i = 0; i < hot_.size(); ++i) index_.insert(hot_[i].page, static_cast<std::uint32_t>(i));
        for (const auto& before : used_before_refresh_) {
            if (auto i = index_.find(before.page); i != PageIndex::none) {
                auto& hot = hot_[i];
                hot.part = {std::min(hot.part.lo, before.part.lo), std::max(hot.part.hi, before.part.hi)};
                hot.whole_for = std::max(hot.whole_for, before.whole_for);
            } else if (hot_.size() < max_snapshot_pages) {
                index_.insert(before.page, static_cast<std::uint32_t>(hot_.size()));
                hot_.push_back(before);
            }
        }
    }
    used_before_refresh_.clear();
    pages_.clear();
    held_.clear();
    touched_part_.clear();
    whole_for_.clear();
    index_.clear();
}

}  // namespace pyprofd::sampler
