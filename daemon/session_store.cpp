#include "daemon/session_store.hpp"

#include <sys/random.h>

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

std::expected<SessionStore, std::string> SessionStore::open(const std::string& state_dir) {
    auto dir = state_dir + "/sessions";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return std::unexpected(fmt::format("cannot use the state directory {}: {} (set another with --state-dir or "
                                           "state_dir in the configuration)",
                                           state_dir, ec.message()));
    return SessionStore(dir);
}

std::expected<void, std::string> SessionStore::save(const SessionInfo& info, const render::Profile& profile) const {
    auto written = write_file_atomically(profile_path(info.id), [&](std::ostream& out) { render::write_folded(profile, out); });
    if (!written) return written;
    return save_record(info);
}

std::expected<void, std::string> SessionStore::save_record(const SessionInfo& info) const {
    auto saved = info;
    saved.save_error.clear();  // true of this process's attempts only
    auto json = session_to_json(saved);
    return write_file_atomically(record_path(info.id), [&](std::ostream& out) { out << json.dump(2) << '\n'; });
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
        std::ifstream in(path);
        std::string text;
        std::getline(in, text, '\0');
        auto json = nlohmann::json::parse(text, nullptr, false);
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
    std::ifstream in(path, std::ios::binary);
    if (!in) return loaded;  // a session that ended before its first sample has none
    if (auto error = render::read_folded(in, loaded.profile))
        loaded.problem = fmt::format("{} line {}: {}", path, error->line, error->message);
    return loaded;
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
}

std::uint64_t SessionStore::bytes_on_disk(const std::string& id) const {
    std::error_code ec;
    std::uint64_t total = 0;
    for (const auto& p : {record_path(id), profile_path(id)}) {
        auto size = fs::file_size(p, ec);
        if (!ec) total += size;
    }
    return total;
}

}  // namespace pyprofd::daemon
