#include "sampler/remote_memory.hpp"

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
    if (snapshot_active_ && out.size() <= largest_snapshot_read) return read_through_snapshot(address, out);
    return read_direct(address, out);
}

Result<void> RemoteMemory::read_direct(RemoteAddress address, std::span<std::byte> out) const {
    iovec local{out.data(), out.size()};
    iovec remote{reinterpret_cast<void*>(address), out.size()};
    ++syscalls_;
    ssize_t n = space_->read({&local, 1}, {&remote, 1});
    if (n == static_cast<ssize_t>(out.size())) return {};
    return fail_read(address, out.size(), n, errno);
}

const std::byte* RemoteMemory::page_data(RemoteAddress page) const {
    // Reads come in runs on one page (a frame's fields, then the next frame beside it).
    std::size_t i = last_hit_;
    if (i >= pages_.size() || pages_[i] != page) {
        auto slot = index_.find(page);
        if (slot == PageIndex::none) return nullptr;
        i = slot;
        last_hit_ = i;
    }
    used_[i] = true;
    if (logging_touches_ && touch_mark_[i] != touch_generation_) {
        touch_mark_[i] = touch_generation_;
        touched_.push_back(page);
    }
    return slot_data(i);
}

void RemoteMemory::reserve_pages(std::size_t pages) const {
    pages = std::min(pages, max_snapshot_pages);
    if (pages <= capacity_pages_) return;
    std::size_t capacity = std::max<std::size_t>(capacity_pages_, 32);
    while (capacity < pages) capacity *= 2;
    capacity = std::min(capacity, max_snapshot_pages);
    // Not zeroed: a slot is always written before it is read.
    std::unique_ptr<std::byte[]> bigger(new std::byte[capacity * page_size]);
    if (page_data_) std::memcpy(bigger.get(), page_data_.get(), pages_.size() * page_size);
    page_data_ = std::move(bigger);
    capacity_pages_ = capacity;
    index_.reserve(capacity);
}

void RemoteMemory::add_page(RemoteAddress page, bool used) const {
    index_.insert(page, static_cast<std::uint32_t>(pages_.size()));
    pages_.push_back(page);
    used_.push_back(used);
    if (touch_mark_.size() < pages_.size()) touch_mark_.resize(capacity_pages_, 0);
    touch_mark_[pages_.size() - 1] = 0;
    if (used && logging_touches_) {
        touch_mark_[pages_.size() - 1] = touch_generation_;
        touched_.push_back(page);
    }
}

bool RemoteMemory::load_pages(RemoteAddress first_page, std::size_t count) const {
    // The missing pages of the range, read together: one system call.
    wanted_.clear();
    for (std::size_t i = 0; i < count; ++i) {
        RemoteAddress page = first_page + i * page_size;
        if (!page_data(page)) wanted_.push_back(page);
    }
    if (wanted_.empty()) return true;
    reserve_pages(pages_.size() + wanted_.size());
    batch_.clear();
    for (std::size_t i = 0; i < wanted_.size(); ++i)
        batch_.push_back({wanted_[i], std::span(slot_data(pages_.size() + i), page_size)});
    auto started = time_page_misses_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto done = read_many(batch_);
    ++page_misses_;
    if (time_page_misses_)
        page_miss_ns_ += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < done; ++i) add_page(batch_[i].address, true);
    return done == batch_.size();
}

Result<void> RemoteMemory::read_through_snapshot(RemoteAddress address, std::span<std::byte> out) const {
    RemoteAddress first = page_of(address);
    RemoteAddress last = page_of(address + out.size() - 1);
    std::size_t pages = static_cast<std::size_t>((last - first) / page_size + 1);
    if (pages_.size() + pages > max_snapshot_pages) return read_direct(address, out);
    // An unreadable page: the read itself says what failed, as a direct read would.
    if (!load_pages(first, pages)) return read_direct(address, out);
    std::size_t copied = 0;
    for (RemoteAddress page = first; page <= last; page += page_size) {
        const std::byte* data = page_data(page);
        RemoteAddress from = std::max(page, address);
        RemoteAddress to = std::min(page + page_size, address + out.size());
        std::memcpy(out.data() + copied, data + (from - page), to - from);
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
        }
        ++syscalls_;
        ssize_t n = space_->read(local_iov_, remote_iov_);
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
    used_.clear();
    last_hit_ = 0;
    snapshot_active_ = true;

    // Last sample's pages and the pages the caller expects, each once.
    index_.clear();
    wanted_.clear();
    for (auto pages : {std::span<const RemoteAddress>(hot_pages_), also_pages})
        for (auto page : pages) {
            if (wanted_.size() >= max_snapshot_pages) break;
            if (index_.find(page) != PageIndex::none) continue;
            index_.insert(page, 0);
            wanted_.push_back(page);
        }
    index_.clear();
    reserve_pages(wanted_.size());

    // Those pages and the caller's reads, together. A page that cannot be read any
    // more (a thread ended and its stack was unmapped) stops the kernel at that page:
    // it is left out and the rest read on, rather than each of the rest being read
    // on its own later.
    std::size_t next = 0;
    for (;;) {
        batch_.clear();
        for (std::size_t i = next; i < wanted_.size(); ++i)
            batch_.push_back({wanted_[i], std::span(slot_data(pages_.size() + i - next), page_size)});
        const std::size_t pages_in_batch = batch_.size();
        batch_.insert(batch_.end(), also.begin(), also.end());
        auto done = read_many(batch_);
        for (std::size_t i = 0; i < std::min(done, pages_in_batch); ++i)
            add_page(wanted_[next + i], false);  // used only if a read of this sample touches it
        if (done >= pages_in_batch) return done - pages_in_batch;
        // Only an unmapped page is worth reading past; a process that is gone or no
        // longer ours fails every read, and the sample's first read will say so.
        if (last_failure_errno_ != EFAULT) return 0;
        next += done + 1;  // past the page that failed
    }
}

void RemoteMemory::refresh_snapshot() const {
    for (std::size_t i = 0; i < pages_.size(); ++i)
        if (used_[i]) used_before_refresh_.push_back(pages_[i]);
    pages_.clear();
    used_.clear();
    index_.clear();
    last_hit_ = 0;
}

void RemoteMemory::start_touch_log() const {
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
    hot_pages_.clear();
    for (std::size_t i = 0; i < pages_.size(); ++i)
        if (used_[i]) hot_pages_.push_back(pages_[i]);
    if (!used_before_refresh_.empty()) {
        index_.clear();
        for (auto page : hot_pages_) index_.insert(page, 0);
        for (auto page : used_before_refresh_)
            if (hot_pages_.size() < max_snapshot_pages && index_.find(page) == PageIndex::none) {
                index_.insert(page, 0);
                hot_pages_.push_back(page);
            }
    }
    used_before_refresh_.clear();
    pages_.clear();
    used_.clear();
    index_.clear();
}

}  // namespace pyprofd::sampler
