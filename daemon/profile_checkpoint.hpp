#pragma once
// A running session's profile on disk, kept current by appending: each checkpoint
// adds a line for each stack that gained samples since the one before, so its cost
// follows what changed, not the profile's size (a capped profile is up to
// limits.max_profile_label_mb of text, and checkpoints come every few seconds).
//
// The file is folded stacks with a stack on several lines, which every reader of
// folded stacks adds up. So that it stays within a small multiple of the profile,
// it is written again whole (atomically, compacted) once what was appended passes
// what the last whole write wrote, or 1 MiB. The same happens after any failed
// append: a torn line is never followed by more.
#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <string>

#include "render/folded.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

class ProfileCheckpoint {
public:
    // Appending is allowed after a whole write; this much is appended at least
    // before the file is compacted.
    static constexpr std::uint64_t min_appended_before_compacting = 1 << 20;

    // Brings the file at `path` up to `profile`, a later snapshot of the same
    // session's profile than the last call's. Files get `mode`.
    std::expected<void, std::string> save(const std::string& path, const render::Profile& profile, mode_t mode);

    // Bytes written by the last whole write, and appended since.
    std::uint64_t whole_bytes() const { return whole_bytes_; }
    std::uint64_t appended_bytes() const { return appended_bytes_; }

private:
    std::expected<void, std::string> write_whole(const std::string& path, const render::Profile& profile, mode_t mode);
    std::expected<void, std::string> append(const std::string& path, const render::Profile& profile);

    render::FoldedWritten written_;
    bool appendable_ = false;  // the file holds exactly written_, ending in a whole line
    std::uint64_t whole_bytes_ = 0;
    std::uint64_t appended_bytes_ = 0;
};

}  // namespace pyprofd::daemon
