#pragma once
// The bytes of a file that someone else controls, for a parser that reads them piece
// by piece: an input in memory (a fuzzer's), or a file read with pread. A file is
// never mapped: its owner may truncate it at any moment, and a read of a mapping past
// the file's new end is a SIGBUS, which would end the daemon; a pread there comes
// back short, an error like any other.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sampler/regular_file.hpp"

namespace pyprofd::sampler {

class FileBytes {
public:
    explicit FileBytes(std::span<const std::byte> memory) : memory_(memory), size_(memory.size()) {}
    // The file's size as it was when opened.
    explicit FileBytes(const RegularFile& file) : fd_(file.fd()), size_(file.size()) {}

    std::uint64_t size() const { return size_; }

    // Fills `out` with the bytes at offset; false where they do not all lie within
    // size(), or (a file shrunk since) could not all be read.
    bool read(std::uint64_t offset, std::span<std::byte> out) const;

private:
    std::span<const std::byte> memory_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

}  // namespace pyprofd::sampler
