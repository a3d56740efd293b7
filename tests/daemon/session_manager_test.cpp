// The session manager with a stand-in for attaching (a CPython built by hand):
// sessions start within the limits, sample, are seen and touched only by their
// owner (another caller is told "not found"), stop, are removed with their files,
// and survive a restart; attach failures reach the caller as the kind of error the
// API maps to a status. The pids are the test's own children, which the access
// rules look at; the samples come from the hand-built image.
#include <doctest/doctest.h>

#include <filesystem>

#include "daemon/session_manager.hpp"
#include "tests/support/sleeping_child.hpp"
#include "tests/support/daemon_fixture.hpp"

using namespace pyprofd;
using SessionError = daemon::Error;
using daemon::SessionState;
using tests::DaemonFixture;
using tests::eventually;
using tests::spec_for;
namespace fs = std::filesystem;

namespace {

constexpr uid_t nobody = 65534;
constexpr gid_t nogroup = 65534;
const std::string work_label = "work (/srv/app/job.py:12)";

bool holds_label(const render::Profile& profile, const std::string& label) {
    for (render::FrameId f = 0; f < profile.frame_count(); ++f)
        if (profile.label(f) == label) return true;
    return false;
}

}  // namespace

TEST_CASE("a session samples, is its owner's alone, stops and is removed with its files") {
    DaemonFixture daemon;
    auto target = tests::sleeping_child();
    auto manager = daemon.manager();
    auto root = daemon.root();
    auto stranger = daemon.user(4321, 4321);

    auto started = manager->start(spec_for(target->pid()), root);
    REQUIRE_MESSAGE(started, started.error().message);
    CHECK(started->state == SessionState::running);
    CHECK(started->target_pid == target->pid());
    CHECK(started->python_version.starts_with("3.11"));
    CHECK(started->owner == "uid:0");
    const auto id = started->id;
    CHECK(eventually([&] { return manager->get(id, root)->samples >= 5; }));

    auto snapshot = manager->profile(id, root);
    REQUIRE(snapshot);
    CHECK(snapshot->first.state == SessionState::running);
    CHECK(snapshot->second->total_samples() > 0);
    CHECK(holds_label(*snapshot->second, work_label));

    // Another caller cannot tell that it exists.
    CHECK(manager->list(stranger).sessions.empty());
    CHECK(manager->get(id, stranger).error().kind == SessionError::Kind::not_found);
    CHECK(manager->profile(id, stranger).error().kind == SessionError::Kind::not_found);
    CHECK(manager->stop(id, stranger).error().kind == SessionError::Kind::not_found);
    CHECK(manager->remove(id, stranger).error().kind == SessionError::Kind::not_found);
    CHECK(manager->get(id, root)->state == SessionState::running);
    REQUIRE(manager->list(root).sessions.size() == 1);

    auto stopped = manager->stop(id, root);
    REQUIRE(stopped);
    CHECK(stopped->state == SessionState::stopped);
    CHECK(stopped->samples > 0);
    auto again = manager->stop(id, root);
    REQUIRE(!again);
    CHECK(again.error().kind == SessionError::Kind::conflict);
    CHECK(again.error().message == "session " + id + " has already ended (stopped)");
    auto final_profile = manager->profile(id, root);
    REQUIRE(final_profile);
    CHECK(final_profile->second->total_samples() == stopped->samples);

    const auto sessions = daemon.config.state_dir + "/sessions";
    CHECK(fs::exists(sessions + "/" + id + ".json"));
    CHECK(fs::exists(sessions + "/" + id + ".folded"));
    REQUIRE(manager->remove(id, root));
    CHECK(manager->list(root).sessions.empty());
    CHECK(manager->get(id, root).error().kind == SessionError::Kind::not_found);
    CHECK(!fs::exists(sessions + "/" + id + ".json"));
    CHECK(!fs::exists(sessions + "/" + id + ".folded"));
}

TEST_CASE("a user's session: theirs and the admins', and a user profiles only their own processes") {
    DaemonFixture daemon;
    auto theirs = tests::sleeping_child(nobody);
    auto roots = tests::sleeping_child();
    auto manager = daemon.manager();
    auto user = daemon.user(nobody, nogroup);

    auto refused = manager->start(spec_for(roots->pid()), user);
    REQUIRE(!refused);
    CHECK(refused.error().kind == SessionError::Kind::not_permitted);
    CHECK(refused.error().field == "pid");

    auto started = manager->start(spec_for(theirs->pid()), user);
    REQUIRE_MESSAGE(started, started.error().message);
    CHECK(started->owner == "uid:65534");
    CHECK(started->owner_name == "nobody");
    CHECK(manager->list(user).sessions.size() == 1);
    CHECK(manager->list(daemon.root()).sessions.size() == 1);  // an admin sees every session
    CHECK(manager->list(daemon.user(4321, 4321)).sessions.empty());
    CHECK(manager->stop(started->id, daemon.root()));
}

TEST_CASE("limits.max_running_sessions: one more is refused as too many, until one ends") {
    DaemonFixture daemon;
    daemon.config.limits.max_running_sessions = 2;
    auto target = tests::sleeping_child();
    auto manager = daemon.manager();
    auto root = daemon.root();

    auto first = manager->start(spec_for(target->pid()), root);
    auto second = manager->start(spec_for(target->pid()), root);
    REQUIRE(first);
    REQUIRE(second);
    auto third = manager->start(spec_for(target->pid()), root);
    REQUIRE(!third);
    CHECK(third.error().kind == SessionError::Kind::too_many);
    CHECK(third.error().message ==
          "2 sessions are running, the most allowed (limits.max_running_sessions); stop one or wait for one to end");
    CHECK(manager->counts().by_state[SessionState::running] == 2);

    REQUIRE(manager->stop(first->id, root));
    CHECK(manager->start(spec_for(target->pid()), root));
}

TEST_CASE("what attaching says reaches the caller as the kind of error it is") {
    DaemonFixture daemon;
    auto target = tests::sleeping_child();
    using K = sampler::ErrorKind;
    for (auto [kind, expected] : {std::pair{K::no_such_process, SessionError::Kind::not_found},
                                  std::pair{K::permission_denied, SessionError::Kind::not_permitted},
                                  std::pair{K::not_python, SessionError::Kind::not_python},
                                  std::pair{K::unsupported_version, SessionError::Kind::not_python}}) {
        auto manager = daemon.manager(tests::failing_attach(kind));
        auto started = manager->start(spec_for(target->pid()), daemon.root());
        REQUIRE(!started);
        CHECK(started.error().kind == expected);
        CHECK(started.error().field == "pid");
        CHECK(started.error().message.find("made to fail by the test") != std::string::npos);
        CHECK(manager->list(daemon.root()).sessions.empty());
    }
}

TEST_CASE("a request out of range names the field at fault") {
    DaemonFixture daemon;
    auto target = tests::sleeping_child();
    auto manager = daemon.manager();
    auto root = daemon.root();
    auto fault = [&](daemon::SessionSpec spec) {
        auto started = manager->start(std::move(spec), root);
        REQUIRE(!started);
        return started.error();
    };
    auto slow = spec_for(target->pid(), 0);
    CHECK(fault(slow).field == "rate_hz");
    CHECK(fault(slow).kind == SessionError::Kind::invalid);
    CHECK(fault(spec_for(target->pid(), 100, 61)).field == "duration_s");
    auto forever = spec_for(target->pid());
    forever.duration_s.reset();
    CHECK(fault(forever).message.find("sessions without a duration are not allowed here") != std::string::npos);
    auto both = spec_for(target->pid());
    both.command = {"python3"};
    CHECK(fault(both).field == "pid");
    auto command = spec_for(0);
    command.pid.reset();
    command.command = {"python3", "-c", "pass"};
    CHECK(fault(command).kind == SessionError::Kind::not_permitted);  // targets.allow_commands is off
    CHECK(fault(command).field == "command");
}

TEST_CASE("shutdown saves running sessions as stopped, and a restarted manager serves them") {
    DaemonFixture daemon;
    auto target = tests::sleeping_child();
    auto root = daemon.root();
    std::string id;
    std::uint64_t samples = 0;
    {
        auto manager = daemon.manager();
        auto started = manager->start(spec_for(target->pid()), root);
        REQUIRE(started);
        id = started->id;
        CHECK(eventually([&] { return manager->get(id, root)->samples >= 5; }));
        manager->shutdown();
        auto ended = manager->get(id, root);
        CHECK(ended->state == SessionState::stopped);
        samples = ended->samples;
    }
    // A record that was left running (the daemon died) comes back interrupted.
    daemon::SessionInfo crashed;
    crashed.id = "00000000000000aa";
    crashed.state = SessionState::running;
    crashed.spec.pid = target->pid();
    crashed.created = daemon::WallClock::now();
    REQUIRE(daemon.store().save_record(crashed));

    auto manager = daemon.manager();
    auto back = manager->profile(id, root);
    REQUIRE(back);
    CHECK(back->first.state == SessionState::stopped);
    CHECK(back->first.samples == samples);
    CHECK(back->second->total_samples() == samples);
    CHECK(holds_label(*back->second, work_label));
    auto interrupted = manager->get("00000000000000aa", root);
    REQUIRE(interrupted);
    CHECK(interrupted->state == SessionState::interrupted);
    CHECK(interrupted->ended);
}
