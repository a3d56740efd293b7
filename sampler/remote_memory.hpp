#pragma once
// Reads another process's memory with process_vm_readv: no ptrace stop, no
// signal, the target keeps running. Every read can race with the target.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "sampler/error.hpp"

namespace pyprofd::sampler {

using RemoteAddress = std::uint64_t;

class RemoteMemory {
public:
    explicit RemoteMemory(pid_t pid) : pid_(pid) {}

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

    // How many system calls this reader made; the benchmarks report syscalls per sample.
    std::uint64_t syscalls() const { return syscalls_; }

private:
    pid_t pid_;
    mutable std::uint64_t syscalls_ = 0;
};

}  // namespace pyprofd::sampler
