// Sessions on disk: what is saved loads back (record, profile, a launched program's
// output), removing takes every file, sizes are counted, and files that are not
// sessions, or not readable ones, are skipped and named as problems. Every file is
// in the test's own scratch directory.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/session_json.hpp"
#include "daemon/session_store.hpp"
#include "render/folded.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;
using daemon::SessionInfo;
using daemon::SessionStore;
using pyprofd::tests::ScratchDir;
namespace fs = std::filesystem;

namespace {

SessionInfo record(const std::string& id, int seconds = 0) {
    SessionInfo info;
    info.id = id;
    info.spec.pid = 42;
    info.state = daemon::SessionState::completed;
    info.created = daemon::WallClock::time_point(std::chrono::seconds(1'700'000'000 + seconds));
    info.ended = info.created + std::chrono::seconds(10);
    info.samples = 3;
    return info;
}

render::Profile two_stacks() {
    render::Profile profile;
    profile.add_labels(std::vector<std::string>{"thread (1)", "main (a.py:1)", "work (a.py:5)"}, 2);
    profile.add_labels(std::vector<std::string>{"thread (1)", "main (a.py:1)"}, 1);
    return profile;
}

std::string folded(const render::Profile& profile) {
    std::ostringstream out;
    render::write_folded(profile, out);
    return out.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

bool has_problem(const SessionStore::Loaded& loaded, const std::string& file, const std::string& why) {
    return std::any_of(loaded.problems.begin(), loaded.problems.end(), [&](const std::string& problem) {
        return problem.find(file) != std::string::npos && problem.find(why) != std::string::npos;
    });
}

}  // namespace

TEST_CASE("a saved session loads back: its record, its profile and its program's output") {
    ScratchDir dir;
    auto store = SessionStore::open(dir.file("state"));
    REQUIRE_MESSAGE(store, store.error());
    CHECK(store->directory() == dir.file("state") + "/sessions");
    CHECK(store->check_writable());

    auto info = record("00000000000000a1");
    REQUIRE(store->save(info, two_stacks()));
    REQUIRE(store->save_output(info.id, "hello\nworld\n"));

    auto loaded = store->load_all();
    CHECK(loaded.problems.empty());
    REQUIRE(loaded.sessions.size() == 1);
    CHECK(loaded.sessions[0].id == info.id);
    CHECK(loaded.sessions[0].samples == 3);
    auto profile = store->load_profile(info.id);
    CHECK(profile.problem.empty());
    CHECK(folded(profile.profile) == folded(two_stacks()));
    CHECK(store->load_output(info.id) == "hello\nworld\n");

    // Owner only: the files show what programs were doing.
    struct stat st {};
    REQUIRE(::stat((store->directory() + "/" + info.id + ".json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(store->directory().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    auto bytes = store->bytes_on_disk(info.id);
    CHECK(bytes == fs::file_size(store->directory() + "/" + info.id + ".json") +
                       fs::file_size(store->directory() + "/" + info.id + ".folded") +
                       fs::file_size(store->directory() + "/" + info.id + ".output"));

    store->remove(info.id);
    CHECK(store->bytes_on_disk(info.id) == 0);
    CHECK(store->load_all().sessions.empty());
    CHECK(!store->load_output(info.id));
    CHECK(fs::is_empty(store->directory()));
}

TEST_CASE("a record whose target's bytes are not UTF-8 is saved, those bytes as U+FFFD") {
    ScratchDir dir;
    auto store = SessionStore::open(dir.file("state"));
    REQUIRE_MESSAGE(store, store.error());
    auto info = record("00000000000000a2");
    info.target_command_line = {"python3", "caf\xe9.py"};
    info.working_directory = "/srv/caf\xe9";
    auto saved = store->save(info, two_stacks());
    REQUIRE_MESSAGE(saved, saved.error());
    auto loaded = store->load_all();
    REQUIRE(loaded.sessions.size() == 1);
    CHECK(loaded.sessions[0].target_command_line.at(1) == "caf\uFFFD.py");
    CHECK(loaded.sessions[0].working_directory == "/srv/caf\uFFFD");
}

TEST_CASE("a session that ended before its first sample has no profile, and that is no problem") {
    ScratchDir dir;
    auto store = SessionStore::open(dir.file("state"));
    REQUIRE(store);
    REQUIRE(store->save_record(record("00000000000000b2")));
    auto profile = store->load_profile("00000000000000b2");
    CHECK(profile.problem.empty());
    CHECK(profile.profile.total_samples() == 0);
}

TEST_CASE("files that are not readable sessions are skipped, each named as a problem") {
    ScratchDir dir;
    auto store = SessionStore::open(dir.file("state"));
    REQUIRE(store);
    const auto sessions = store->directory();
    REQUIRE(store->save(record("00000000000000c3"), two_stacks()));  // the one good session

    write(sessions + "/notes.json", "{}");
    write(sessions + "/00000000000000d4.json", "{ not json");
    write(sessions + "/00000000000000e5.json", R"({"id": "00000000000000e5"})");
    write(sessions + "/00000000000000f6.json", daemon::session_to_json(record("0000000000000999")).dump());
    write(dir.file("planted.json"), daemon::session_to_json(record("0000000000000a07")).dump());
    fs::create_symlink(dir.file("planted.json"), sessions + "/0000000000000a07.json");
    fs::create_directory(sessions + "/0000000000000b08.json");
    write(sessions + "/00000000000000c3.json.tmp-123", "half");  // a write a crash cut short

    auto loaded = store->load_all();
    REQUIRE(loaded.sessions.size() == 1);
    CHECK(loaded.sessions[0].id == "00000000000000c3");
    CHECK(loaded.problems.size() == 6);
    CHECK(has_problem(loaded, "notes.json", "not a session file name"));
    CHECK(has_problem(loaded, "00000000000000d4.json", "not valid JSON"));
    CHECK(has_problem(loaded, "00000000000000e5.json", "not a session record"));
    CHECK(has_problem(loaded, "00000000000000f6.json", "holds session 0000000000000999"));
    CHECK(has_problem(loaded, "0000000000000a07.json", "a symbolic link, not followed"));
    CHECK(has_problem(loaded, "0000000000000b08.json", "not a regular file"));
    CHECK(!fs::exists(sessions + "/00000000000000c3.json.tmp-123"));  // removed at load
}

TEST_CASE("a profile that cannot be read to its end gives the stacks before the fault, and says why") {
    ScratchDir dir;
    auto store = SessionStore::open(dir.file("state"));
    REQUIRE(store);
    const auto id = std::string("00000000000000c9");
    REQUIRE(store->save_record(record(id)));
    const auto path = store->directory() + "/" + id + ".folded";

    // A checkpoint that a crash cut short: its last line has no newline.
    write(path, "main;work 2\nmain;oth");
    auto torn = store->load_profile(id);
    CHECK(torn.profile.total_samples() == 2);
    CHECK(torn.problem.find("its last line was cut short") != std::string::npos);

    write(path, "main;work 2\nthis line has no count\nmain 1\n");
    auto bad = store->load_profile(id);
    CHECK(bad.profile.total_samples() == 2);
    CHECK(bad.problem.find(path + " line 2") != std::string::npos);
}

TEST_CASE("a state directory that others could replace is refused, with the way out") {
    ScratchDir dir;
    auto open_dir = dir.file("open");
    fs::create_directory(open_dir);
    REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);  // writable by all, and not sticky
    auto store = SessionStore::open(open_dir + "/state");
    REQUIRE(!store);
    CHECK(store.error().find("may be written by others") != std::string::npos);
    CHECK(store.error().find("--state-dir") != std::string::npos);

    write(dir.file("a-file"), "x");
    auto not_dir = SessionStore::open(dir.file("a-file"));
    REQUIRE(!not_dir);
    CHECK(not_dir.error().find("is not a directory") != std::string::npos);
}

TEST_CASE("session ids are 16 lower-case hex digits, and new ones are") {
    CHECK(daemon::is_session_id("0123456789abcdef"));
    CHECK(!daemon::is_session_id("0123456789ABCDEF"));
    CHECK(!daemon::is_session_id("0123456789abcde"));
    CHECK(!daemon::is_session_id("../../etc/passwd"));
    auto a = daemon::new_session_id();
    auto b = daemon::new_session_id();
    CHECK(daemon::is_session_id(a));
    CHECK(a != b);
}
