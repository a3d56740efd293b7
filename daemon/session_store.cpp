#include "daemon/session_store.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "daemon/atomic_file.hpp"
#include "daemon/session_json.hpp"
#include "render/folded.hpp"

namespace pyprofd::daemon {

namespace fs = std::filesystem;

bool is_session_id(std::string_view text) {
    if (text.size() != 16) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string new_session_id() {
    std::uint64_t bits = 0;
    while (::getrandom(&bits, sizeof bits, 0) != static_cast<ssize_t>(sizeof bits)) {
    }
    return fmt::format("{:016x}", bits);
}

namespace {

// What profiled programs were doing: the owner's alone.
constexpr mode_t state_file_mode = 0600;

// The state directory holds what profiled programs were doing, and what is in it is
// believed at the next start: only pyprofd's user may write there, or anywhere on
// the way to it (a parent that others may write to, but with the sticky bit and
// owned by root, like /tmp, cannot have our directory swapped out).
std::expected<void, std::string> check_state_directory(const std::string& state_dir) {
    std::error_code ec;
    auto real = fs::canonical(state_dir, ec);
    if (ec) return std::unexpected(fmt::format("{}: {}", state_dir, ec.message()));
    uid_t us = ::geteuid();
    for (auto dir = real;; dir = dir.parent_path()) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0)
            return std::unexpected(fmt::format("{}: {}", dir.string(), std::strerror(errno)));
        bool ours = dir == real;
        if (ours && st.st_uid != us)
            return std::unexpected(fmt::format("{} belongs to uid {}, not to pyprofd's user (uid {}): another user could "
                                               "plant sessions there",
                                               dir.string(), st.st_uid, us));
        if (!ours && st.st_uid != 0 && st.st_uid != us)
            return std::unexpected(fmt::format("{}, on the way to the state directory, belongs to uid {}: that user "
                                               "could replace the state directory",
                                               dir.string(), st.st_uid));
        bool sticky_root = (st.st_mode & S_ISVTX) && st.st_uid == 0;
        if (!ours && (st.st_mode & 022) && !sticky_root)
            return std::unexpected(fmt::format("{}, on the way to the state directory, may be written by others (mode "
                                               "{:o}): they could replace the state directory",
                                               dir.string(), st.st_mode & 07777));
        if (dir == dir.parent_path()) break;
    }
    return {};
}

// Ours, owner only: sessions show what programs were doing.
std::expected<void, std::string> make_private_directory(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT || (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST))
            return std::unexpected(fmt::format("{}: {}", dir, std::strerror(errno)));
        if (::lstat(dir.c_str(), &st) != 0) return std::unexpected(fmt::format("{}: {}", dir, std::strerror(errno)));
    }
    if (!S_ISDIR(st.st_mode)) return std::unexpected(fmt::format("{} is not a directory", dir));
    if (st.st_uid != ::geteuid())
        return std::unexpected(fmt::format("{} belongs to uid {}, not to pyprofd's user", dir, st.st_uid));
    if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
        return std::unexpected(fmt::format("{}: cannot make it owner-only: {}", dir, std::strerror(errno)));
    return {};
}

// A file of the state directory, opened only if it is a regular file there (a link
// someone planted is not followed).
std::optional<std::string> read_state_file(const std::string& path, std::string& error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = errno == ELOOP ? "a symbolic link, not followed" : std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = "not a regular file";
    } else {
        char buffer[65536];
        ssize_t n;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
        if (n < 0) error = std::strerror(errno);
    }
    ::close(fd);
    if (!error.empty()) return std::nullopt;
    return text;
}

}  // namespace

std::expected<SessionStore, std::string> SessionStore::open(const std::string& state_dir) {
    auto dir = state_dir + "/sessions";
    auto fail = [&](const std::string& why) {
        return std::unexpected(fmt::format("cannot use the state directory {}: {} (set another with --state-dir or "
                                           "state_dir in the configuration)",
                                           state_dir, why));
    };
    std::error_code ec;
    auto parent = fs::path(state_dir).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) return fail(ec.message());
    for (const auto& d : {state_dir, dir})
        if (auto made = make_private_directory(d); !made) return fail(made.error());
    if (auto safe = check_state_directory(state_dir); !safe) return fail(safe.error());
    return SessionStore(dir);
}

std::expected<void, std::string> SessionStore::save(const SessionInfo& info, const render::Profile& profile) const {
    auto written = write_file_atomically(
        profile_path(info.id), [&](std::ostream& out) { render::write_folded(profile, out); }, state_file_mode);
    if (!written) return written;
    return save_record(info);
}

std::expected<void, std::string> SessionStore::save_checkpoint(const SessionInfo& info, const render::Profile& profile,
                                                               ProfileCheckpoint& checkpoint) const {
    auto written = checkpoint.save(profile_path(info.id), profile, state_file_mode);
    if (!written) return written;
    return save_record(info);
}

std::expected<void, std::string> SessionStore::save_record(const SessionInfo& info) const {
    auto saved = info;
    saved.save_error.clear();  // true of this process's attempts only
    auto json = session_to_json(saved);
    return write_file_atomically(
        record_path(info.id),
        [&](std::ostream& out) {
            // The target's bytes (its command line, its working directory) need not be
            // UTF-8: such bytes are saved as U+FFFD, as the API shows them, rather than
            // leave the session unsaved.
            out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        },
        state_file_mode);
}

SessionStore::Loaded SessionStore::load_all() const {
    Loaded loaded;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        auto path = entry.path();
        auto name = path.filename().string();
        if (name.find(".tmp-") != std::string::npos) {
            fs::remove(path, ec);  // a write that a crash interrupted
            continue;
        }
        if (path.extension() != ".json") continue;
        auto id = path.stem().string();
        if (!is_session_id(id)) {
            loaded.problems.push_back(fmt::format("{}: not a session file name; skipped", path.string()));
            continue;
        }
        std::string why;
        auto text = read_state_file(path.string(), why);
        if (!text) {
            loaded.problems.push_back(fmt::format("{}: {}; skipped", path.string(), why));
            continue;
        }
        auto json = nlohmann::json::parse(*text, nullptr, false);
        if (json.is_discarded()) {
            loaded.problems.push_back(fmt::format("{}: not valid JSON; skipped", path.string()));
            continue;
        }
        auto info = session_from_json(json);
        if (!info) {
            loaded.problems.push_back(fmt::format("{}: {}; skipped", path.string(), info.error()));
            continue;
        }
        if (info->id != id) {
            loaded.problems.push_back(fmt::format("{}: holds session {}; skipped", path.string(), info->id));
            continue;
        }
        loaded.sessions.push_back(std::move(*info));
    }
    if (ec) loaded.problems.push_back(fmt::format("{}: {}", dir_, ec.message()));
    return loaded;
}

SessionStore::LoadedProfile SessionStore::load_profile(const std::string& id, const render::ProfileLimits& limits) const {
    LoadedProfile loaded{render::Profile(limits), {}};
    auto path = profile_path(id);
    std::string why;
    auto text = read_state_file(path, why);
    if (!text) {
        // A session that ended before its first sample has none.
        if (why != std::strerror(ENOENT)) loaded.problem = fmt::format("{}: {}", path, why);
        return loaded;
    }
    std::string torn;
    if (!text->empty() && text->back() != '\n') {
        auto last = text->rfind('\n');
        last = last == std::string::npos ? 0 : last + 1;
        torn = fmt::format("{}: its last line was cut short (the daemon stopped while appending a checkpoint) and is "
                           "left out",
                           path);
        text->resize(last);
    }
    std::istringstream in(std::move(*text));
    if (auto error = render::read_folded(in, loaded.profile))
        loaded.problem = fmt::format("{} line {}: {}", path, error->line, error->message);
    else
        loaded.problem = std::move(torn);
    return loaded;
}

std::expected<void, std::string> SessionStore::save_output(const std::string& id, const std::string& text) const {
    return write_file_atomically(output_path(id), [&](std::ostream& out) { out << text; }, state_file_mode);
}

std::optional<std::string> SessionStore::load_output(const std::string& id) const {
    std::string why;
    return read_state_file(output_path(id), why);
}

std::expected<void, std::string> SessionStore::check_writable() const {
    auto probe = dir_ + "/.writable-probe";
    auto written = write_file_atomically(probe, [](std::ostream& out) { out << "pyprofd\n"; });
    std::error_code ec;
    fs::remove(probe, ec);
    return written;
}

void SessionStore::remove(const std::string& id) const {
    std::error_code ec;
    fs::remove(record_path(id), ec);
    fs::remove(profile_path(id), ec);
    fs::remove(output_path(id), ec);
}

std::uint64_t SessionStore::bytes_on_disk(const std::string& id) const {
    std::error_code ec;
    std::uint64_t total = 0;
    for (const auto& p : {record_path(id), profile_path(id), output_path(id)}) {
        auto size = fs::file_size(p, ec);
        if (!ec) total += size;
    }
    return total;
}

}  // namespace pyprofd::daemon
