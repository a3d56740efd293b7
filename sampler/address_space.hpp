#pragma once
// Where RemoteMemory's bytes come from. Normally the target process itself, read
// with process_vm_readv; for the attach fuzzer and the unit tests, a buffer that
// poses as a process's memory at a base address, so that everything above the
// system call (snapshots, batching, the whole CPython walk) runs unchanged on
// memory built by hand. RemoteMemory calls it once per system call it would make,
// never per object it reads, so the indirection costs nothing measurable.
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pyprofd::sampler {

class AddressSpace {
public:
    virtual ~AddressSpace() = default;
    // Reads remote[i] into local[i], in order, with process_vm_readv's contract:
    // the number of bytes read, which stops short at the first range that cannot
    // be read whole; -1 with errno set when not even the first could be.
    // local[i] and remote[i] have the same length.
    virtual ssize_t read(std::span<const iovec> local, std::span<const iovec> remote) const = 0;
};

// The memory of a live process.
class ProcessAddressSpace final : public AddressSpace {
public:
    explicit ProcessAddressSpace(pid_t pid) : pid_(pid) {}
    ssize_t read(std::span<const iovec> local, std::span<const iovec> remote) const override;

private:
    pid_t pid_;
};

// A copy of memory that holds `bytes` at [base, base + bytes.size()) and nothing
// anywhere else: a read outside fails as an unmapped address does (EFAULT).
class BufferAddressSpace final : public AddressSpace {
public:
    BufferAddressSpace(std::uint64_t base, std::vector<std::byte> bytes) : base_(base), bytes_(std::move(bytes)) {}
    ssize_t read(std::span<const iovec> local, std::span<const iovec> remote) const override;

    std::uint64_t base() const { return base_; }
    std::size_t size() const { return bytes_.size(); }

private:
    std::uint64_t base_;
    std::vector<std::byte> bytes_;
};

}  // namespace pyprofd::sampler
