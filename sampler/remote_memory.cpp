#include "sampler/remote_memory.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fmt/format.h>

namespace pyprofd::sampler {
namespace {

// Reads bigger than this (long line tables, big strings) go straight through.
constexpr std::size_t largest_snapshot_read = 4 * RemoteMemory::page_size;
// The snapshot's bound: 256 pages (1 MiB) a sample, ample for hundreds of threads.
constexpr std::size_t max_snapshot_pages = 256;

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
    ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(out.size())) return {};
    return fail_read(address, out.size(), n, errno);
}

Result<void> RemoteMemory::load_pages(RemoteAddress first_page, std::size_t count) const {
    // The missing pages of the range, read together: one system call.
    std::vector<iovec> local, remote;
    std::vector<RemoteAddress> loading;
    for (std::size_t i = 0; i < count; ++i) {
        RemoteAddress page = first_page + i * page_size;
        if (page_slots_.contains(page)) continue;
        loading.push_back(page);
    }
    if (loading.empty()) return {};
    std::size_t first_slot = page_data_.size() / page_size;
    page_data_.resize(page_data_.size() + loading.size() * page_size);
    for (std::size_t i = 0; i < loading.size(); ++i) {
        local.push_back({page_data_.data() + (first_slot + i) * page_size, page_size});
        remote.push_back({reinterpret_cast<void*>(loading[i]), page_size});
    }
    ++syscalls_;
    ssize_t n = ::process_vm_readv(pid_, local.data(), local.size(), remote.data(), remote.size(), 0);
    int err = errno;
    auto complete = n < 0 ? 0 : static_cast<std::size_t>(n) / page_size;
    for (std::size_t i = 0; i < complete; ++i) page_slots_.emplace(loading[i], first_slot + i);
    page_data_.resize((first_slot + complete) * page_size);
    if (complete == loading.size()) return {};
    return fail_read(loading[complete], page_size, n < 0 ? n : 0, err);
}

Result<void> RemoteMemory::read_through_snapshot(RemoteAddress address, std::span<std::byte> out) const {
    RemoteAddress first = page_of(address);
    RemoteAddress last = page_of(address + out.size() - 1);
    std::size_t pages = static_cast<std::size_t>((last - first) / page_size + 1);
    if (page_slots_.size() + pages > max_snapshot_pages) return read_direct(address, out);
    if (auto loaded = load_pages(first, pages); !loaded) {
        // An unreadable page: the read itself says what failed, as a direct read would.
        return read_direct(address, out);
    }
    std::size_t copied = 0;
    for (RemoteAddress page = first; page <= last; page += page_size) {
        const std::byte* data = page_data_.data() + page_slots_.at(page) * page_size;
        RemoteAddress from = std::max(page, address);
        RemoteAddress to = std::min(page + page_size, address + out.size());
        std::memcpy(out.data() + copied, data + (from - page), to - from);
        copied += to - from;
    }
    return {};
}

std::size_t RemoteMemory::read_many(std::span<const ReadRequest> requests) const {
    std::size_t done = 0;
    std::vector<iovec> local, remote;
    while (done < requests.size()) {
        auto batch = requests.subspan(done, std::min<std::size_t>(requests.size() - done, IOV_MAX));
        local.clear();
        remote.clear();
        std::size_t bytes = 0;
        for (const auto& r : batch) {
            local.push_back({r.out.data(), r.out.size()});
            remote.push_back({reinterpret_cast<void*>(r.address), r.out.size()});
            bytes += r.out.size();
        }
        ++syscalls_;
        ssize_t n = ::process_vm_readv(pid_, local.data(), local.size(), remote.data(), remote.size(), 0);
        if (n == static_cast<ssize_t>(bytes)) {
            done += batch.size();
            continue;
        }
        // Partial: the kernel stops at the first request it cannot read.
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

void RemoteMemory::begin_snapshot() const {
    page_slots_.clear();
    page_data_.clear();
    page_data_.reserve(16 * page_size);
    snapshot_active_ = true;
}

void RemoteMemory::end_snapshot() const {
    snapshot_active_ = false;
    page_slots_.clear();
    page_data_.clear();
}

}  // namespace pyprofd::sampler
