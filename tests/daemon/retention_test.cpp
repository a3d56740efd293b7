// Retention keeps the state directory within its limits: the oldest finished
// sessions go first, past retention.max_sessions, past max_age_days, and while
// the directory holds more than max_disk_mb (a running session's files count, and
// the newest finished session stays whatever its size). Every file is in the
// test's own scratch directory.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "render/profile.hpp"
#include "tests/support/sleeping_child.hpp"
#include "tests/support/daemon_fixture.hpp"

using namespace pyprofd;
using daemon::SessionInfo;
using daemon::SessionState;
using tests::DaemonFixture;
namespace fs = std::filesystem;

namespace {

// Finished sessions on disk, created `hours_ago` (oldest first), each with a profile of about the same size.
std::vector<std::string> save_finished(const DaemonFixture& daemon, const std::vector<double>& hours_ago) {
    auto store = daemon.store();
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < hours_ago.size(); ++i) {
        SessionInfo info;
        info.id = fmt::format("{:016x}", 0xa0 + i);
        info.spec.pid = 42;
        info.state = SessionState::completed;
        info.created = daemon::WallClock::now() - std::chrono::duration_cast<daemon::WallClock::duration>(
                                                      std::chrono::duration<double>(hours_ago[i] * 3600));
        info.ended = info.created;
        render::Profile profile;
        profile.add_labels(std::vector<std::string>{"main (a.py:1)", std::string(1000, 'x')}, 5);
        REQUIRE(store.save(info, profile));
        ids.push_back(info.id);
    }
    return ids;
}

std::vector<std::string> ids_kept(const daemon::SessionManager& manager, const daemon::Caller& caller) {
    std::vector<std::string> ids;
    for (const auto& info : manager.list(caller).sessions) ids.push_back(info.id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

bool on_disk(const DaemonFixture& daemon, const std::string& id) {
    return fs::exists(daemon.config.state_dir + "/sessions/" + id + ".json") ||
           fs::exists(daemon.config.state_dir + "/sessions/" + id + ".folded");
}

}  // namespace

TEST_CASE("retention.max_sessions: the oldest finished sessions beyond it are removed, files and all") {
    DaemonFixture daemon;
    daemon.config.retention.max_sessions = 2;
    auto ids = save_finished(daemon, {4, 3, 2, 1});
    auto manager = daemon.manager();
    CHECK(ids_kept(*manager, daemon.root()) == std::vector<std::string>{ids[2], ids[3]});
    CHECK(!on_disk(daemon, ids[0]));
    CHECK(!on_disk(daemon, ids[1]));
    CHECK(on_disk(daemon, ids[2]));
}

TEST_CASE("retention.max_age_days: sessions created before it are removed") {
    DaemonFixture daemon;
    daemon.config.retention.max_age_days = 1;
    auto ids = save_finished(daemon, {72, 25, 23, 1});
    auto manager = daemon.manager();
    CHECK(ids_kept(*manager, daemon.root()) == std::vector<std::string>{ids[2], ids[3]});
    CHECK(!on_disk(daemon, ids[0]));
}

TEST_CASE("retention.max_disk_mb: the oldest go until the rest fit, but the newest always stays") {
    DaemonFixture daemon;
    auto ids = save_finished(daemon, {4, 3, 2, 1});
    auto size = daemon.store().bytes_on_disk(ids[0]);
    REQUIRE(size > 1000);
    daemon.config.retention.max_disk_bytes = 2 * size + size / 2;  // two and a half sessions' worth
    {
        auto manager = daemon.manager();
        CHECK(ids_kept(*manager, daemon.root()) == std::vector<std::string>{ids[2], ids[3]});
    }
    daemon.config.retention.max_disk_bytes = 1;  // less than any session
    auto manager = daemon.manager();
    CHECK(ids_kept(*manager, daemon.root()) == std::vector<std::string>{ids[3]});
    CHECK(on_disk(daemon, ids[3]));
}

TEST_CASE("a running session's files count against retention.max_disk_mb, and it is never removed") {
    DaemonFixture daemon;
    daemon.config.checkpoint_interval_s = 0.05;
    auto target = tests::sleeping_child();
    auto ids = save_finished(daemon, {2, 1});
    auto store = daemon.store();
    daemon.config.retention.max_disk_bytes = store.bytes_on_disk(ids[0]) + store.bytes_on_disk(ids[1]) + 10;
    auto manager = daemon.manager();
    auto root = daemon.root();
    CHECK(ids_kept(*manager, root) == ids);  // they fit, alone

    auto running = manager->start(tests::spec_for(target->pid()), root);
    REQUIRE(running);
    // Its record and checkpoints take the directory past the limit: the older finished session goes.
    CHECK(tests::eventually([&] { return !on_disk(daemon, ids[0]); }));
    auto kept = ids_kept(*manager, root);
    CHECK(std::find(kept.begin(), kept.end(), ids[0]) == kept.end());
    CHECK(std::find(kept.begin(), kept.end(), ids[1]) != kept.end());  // the newest finished stays
    CHECK(std::find(kept.begin(), kept.end(), running->id) != kept.end());
    CHECK(manager->get(running->id, root)->state == SessionState::running);
}
