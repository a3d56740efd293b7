#pragma once
// Sessions on disk, under STATE_DIR/sessions: ID.json (the session record),
// ID.folded (its profile, a root per thread) and, for a launched program, ID.output
// (the last of its output), each written atomically; a running session's profile
// is appended to between whole writes (profile_checkpoint.hpp). The profile is
// written before the record, so a record never points at a profile older than
// itself.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "daemon/profile_checkpoint.hpp"
#include "daemon/session_info.hpp"
#include "render/profile.hpp"

namespace pyprofd::daemon {

class SessionStore {
public:
    // Creates the directory if needed; fails with a message a person can act on.
    static std::expected<SessionStore, std::string> open(const std::string& state_dir);

    std::expected<void, std::string> save(const SessionInfo& info, const render::Profile& profile) const;
    // A running session's checkpoint: its profile as `checkpoint` brings it up to
    // date (by appending, mostly), then its record.
    std::expected<void, std::string> save_checkpoint(const SessionInfo& info, const render::Profile& profile,
                                                     ProfileCheckpoint& checkpoint) const;
    std::expected<void, std::string> save_record(const SessionInfo& info) const;

    struct Loaded {
        std::vector<SessionInfo> sessions;
        std::vector<std::string> problems;  // files that could not be read: reported and skipped
    };
    Loaded load_all() const;
    // A session's saved profile, read into a profile with these limits. A file that
    // cannot be read to its end still gives the stacks before the line at fault, and
    // says what was wrong with it (problem). A last line without its newline is a
    // checkpoint that a crash cut short: it is left out, and said so.
    struct LoadedProfile {
        render::Profile profile;
        std::string problem;
    };
    LoadedProfile load_profile(const std::string& id, const render::ProfileLimits& limits = {}) const;
    std::expected<void, std::string> save_output(const std::string& id, const std::string& text) const;
    std::optional<std::string> load_output(const std::string& id) const;
    void remove(const std::string& id) const;
    // Whether a file can be written there now (full and read-only file systems fail).
    std::expected<void, std::string> check_writable() const;
    std::uint64_t bytes_on_disk(const std::string& id) const;

    const std::string& directory() const { return dir_; }

private:
    explicit SessionStore(std::string dir) : dir_(std::move(dir)) {}
    std::string record_path(const std::string& id) const { return dir_ + "/" + id + ".json"; }
    std::string profile_path(const std::string& id) const { return dir_ + "/" + id + ".folded"; }
    std::string output_path(const std::string& id) const { return dir_ + "/" + id + ".output"; }

    std::string dir_;
};

// Session ids are 16 lower-case hex digits; anything else never reaches a path.
bool is_session_id(std::string_view text);
std::string new_session_id();

}  // namespace pyprofd::daemon
