#pragma once
// What a frame needs of its code object (names, file, line table), read once per
// code object and kept: a steady program's samples then cost about one read per frame.
#include <cstddef>
#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sampler/line_table.hpp"
#include "sampler/object_reader.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {

struct CodeInfo {
    std::string function;  // the qualified name where the version has one, else co_name
    std::string filename;
    int first_line = 0;
    LineTable lines;
};

// Code objects are keyed by address, and an address can be reused: a code object
// freed (a module reloaded, a lambda gone, startup's import machinery) and another
// allocated in its place. validate() rereads the identifying fields of cached code
// objects in one system call and drops those that changed; the walker calls it
// for each stack before trusting the cache. Strings are not cached on their own
// for the same reason: they are read with the code object that holds them alive.
class CodeCache {
public:
    // Past max_entries code objects, or max_bytes of what they hold (names, line
    // tables: sizes the target chooses), the cache starts over rather than grow.
    explicit CodeCache(const ObjectReader& reader, std::size_t max_entries = max_cached_code_objects,
                       std::size_t max_bytes = max_code_cache_bytes);

    // The code object at `code`, read and checked on first use.
    Result<std::shared_ptr<const CodeInfo>> get(RemoteAddress code);

    // The code objects of one stack, in order, into `out`: cached ones once checked
    // in this sample that they are still what was read (all that need it in one
    // system call; those that are not are forgotten and read afresh), others read.
    // One table lookup per frame: at 10 kHz the lookups were a tenth of a sample.
    Result<void> lookup(std::span<const RemoteAddress> codes, std::vector<std::shared_ptr<const CodeInfo>>& out);

    // A sample starts: the reads that check the code objects the last sample used,
    // to be made with the sample's first read (RemoteMemory::begin_snapshot), and
    // then prefetched() with how many of them were read. None where check_headers is
    // false (the caller expects the epoch to vouch for them).
    std::span<const RemoteMemory::ReadRequest> begin_sample(bool check_headers = true);
    void prefetched(std::size_t done);

    // Where the target counts the code objects it frees (3.14+), the caller names an
    // epoch for this sample: the same number as an earlier sample's only while no
    // code object has been freed since that sample began. An entry read or checked in
    // an epoch is still what it was in any later sample of the same epoch (the code
    // object it was is alive, so nothing else sits at its address) and needs no
    // check. nullopt (the default): no such proof, every entry is checked each sample.
    // Called before the sample's first prefetched() or lookup().
    void set_epoch(std::optional<std::uint64_t> epoch) { epoch_ = epoch ? *epoch + 1 : 0; }

    std::size_t size() const { return codes_.size(); }
    std::size_t bytes() const { return bytes_; }
    std::uint64_t misses() const { return misses_; }
    std::uint64_t stale() const { return stale_; }
    // Checks made by reading a header, and those the epoch made needless.
    std::uint64_t header_checks() const { return header_checks_; }
    std::uint64_t epoch_checks() const { return epoch_checks_; }

private:
    // ob_type, file name, name, qualified name, line table and first line: what
    // another code object at the same address would not share.
    using Fingerprint = std::array<std::uint64_t, 6>;
    struct Entry {
        std::shared_ptr<const CodeInfo> info;
        Fingerprint fingerprint;
        std::uint64_t checked_in = 0;  // the sample that last checked it
        std::uint64_t used_in = 0;     // the sample that last used it
        std::uint64_t epoch = 0;       // epoch_ when last read or checked (0: none)
        std::size_t bytes = 0;         // what it holds, roughly
    };
    void note_used(RemoteAddress code, Entry& entry);
    // Marks entry checked in this sample, or forgets it (changing generation_) if the
    // header read is not its own.
    void check(RemoteAddress code, Entry& entry, std::span<const std::byte> header, bool read_ok);
    // Reads of the identifying header of each code object, into buffer.
    void header_requests(std::span<const RemoteAddress> codes, std::vector<std::byte>& buffer,
                         std::vector<RemoteMemory::ReadRequest>& requests) const;

    Fingerprint fingerprint_of(std::span<const std::byte> header) const;
    Result<Entry> load(RemoteAddress code);

    const ObjectReader& reader_;
    std::size_t max_entries_;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    Offset header_start_ = 0;  // the span of the code object's header that load and validate read
    std::size_t header_size_ = 0;
    std::unordered_map<RemoteAddress, Entry> codes_;
    std::uint64_t misses_ = 0;
    std::uint64_t stale_ = 0;
    std::uint64_t sample_ = 1;
    std::uint64_t generation_ = 0;  // changes when entries are forgotten (pointers to them die)
    std::uint64_t epoch_ = 0;       // set_epoch's, plus one; 0: none
    std::uint64_t header_checks_ = 0;
    std::uint64_t epoch_checks_ = 0;
    std::vector<RemoteAddress> used_this_sample_;  // each once (Entry::used_in)
    std::vector<Entry*> found_;
    std::vector<RemoteAddress> unchecked_;
    std::vector<Entry*> unchecked_entries_;
    std::vector<std::byte> unchecked_headers_;
    std::vector<RemoteMemory::ReadRequest> unchecked_requests_;
    std::vector<RemoteAddress> prefetching_;
    std::vector<Entry*> prefetching_entries_;
    std::vector<std::byte> prefetch_buffer_;
    std::vector<RemoteMemory::ReadRequest> prefetch_requests_;
};

}  // namespace pyprofd::sampler
