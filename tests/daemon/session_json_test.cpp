// A session's record as JSON: every field survives a round trip, records written
// before a field existed still read (owners, truncation, launched commands), and a
// record that is not one says what is wrong instead of throwing.
#include <doctest/doctest.h>

#include "daemon/session_json.hpp"

using namespace pyprofd;
using daemon::SessionInfo;
using daemon::SessionState;

namespace {

SessionInfo full_record() {
    SessionInfo info;
    info.id = "0123456789abcdef";
    info.owner = "uid:1000";
    info.owner_name = "alice";
    info.spec.command = {"python3", "job.py", "--fast"};
    info.spec.env = {{"MODE", ""}, {"TOKEN", ""}};  // names only: values are never saved
    info.spec.cwd = "/srv/app";
    info.spec.rate_hz = 250;
    info.spec.duration_s = 12.5;
    info.spec.name = "nightly & more";
    info.spec.aggregation = {.include_idle = true, .gil_only = true, .per_thread = true, .by_function = true};
    info.spec.blocking = true;
    info.state = SessionState::failed;
    info.failure = "the target went away";
    info.target_pid = 4242;
    info.target_command_line = {"python3", "job.py", "--fast"};
    info.python_version = "3.11.2";
    info.working_directory = "/srv/app/run";
    info.standard_library = "/usr/lib/python3.11";
    info.created = daemon::WallClock::time_point(std::chrono::milliseconds(1'700'000'000'123));
    info.ended = info.created + std::chrono::milliseconds(12'500);
    info.samples = 3000;
    info.samples_expected = 3125;
    info.failed_samples = 7;
    info.thread_errors = 9;
    info.max_lag_ms = 4.5;
    info.mean_lag_ms = 0.25;
    info.elapsed_s = 12.5;
    info.threads = {{4242, {"MainThread", 3000}}, {4243, {"worker \"1\"", 12}}};
    info.truncated_samples = 17;
    info.truncated_by = "limits.max_profile_stacks";
    return info;
}

}  // namespace

TEST_CASE("a session record reads back as it was written, field by field") {
    auto info = full_record();
    auto back = daemon::session_from_json(daemon::session_to_json(info));
    REQUIRE_MESSAGE(back, back.error());
    CHECK(back->id == info.id);
    CHECK(back->owner == info.owner);
    CHECK(back->owner_name == info.owner_name);
    CHECK(back->spec.command == info.spec.command);
    CHECK(back->spec.env == info.spec.env);
    CHECK(back->spec.cwd == info.spec.cwd);
    CHECK(!back->spec.pid);
    CHECK(back->spec.rate_hz == info.spec.rate_hz);
    CHECK(back->spec.duration_s == info.spec.duration_s);
    CHECK(back->spec.name == info.spec.name);
    CHECK(back->spec.aggregation.include_idle);
    CHECK(back->spec.aggregation.gil_only);
    CHECK(back->spec.aggregation.per_thread);
    CHECK(back->spec.aggregation.by_function);
    CHECK(back->spec.blocking);
    CHECK(back->state == SessionState::failed);
    CHECK(back->failure == info.failure);
    CHECK(back->target_pid == info.target_pid);
    CHECK(back->target_command_line == info.target_command_line);
    CHECK(back->python_version == info.python_version);
    CHECK(back->working_directory == "/srv/app/run");
    CHECK(back->standard_library == "/usr/lib/python3.11");
    CHECK(back->created == info.created);  // to the millisecond, as ISO 8601 keeps it
    CHECK(back->ended == info.ended);
    CHECK(back->samples == info.samples);
    CHECK(back->samples_expected == info.samples_expected);
    CHECK(back->failed_samples == info.failed_samples);
    CHECK(back->thread_errors == info.thread_errors);
    CHECK(back->max_lag_ms == info.max_lag_ms);
    CHECK(back->mean_lag_ms == info.mean_lag_ms);
    CHECK(back->elapsed_s == info.elapsed_s);
    REQUIRE(back->threads.size() == 2);
    CHECK(back->threads.at(4243).name == "worker \"1\"");
    CHECK(back->threads.at(4243).samples == 12);
    CHECK(back->truncated_samples == 17);
    CHECK(back->truncated_by == "limits.max_profile_stacks");
}

TEST_CASE("a session of a running process, without a duration, still running") {
    SessionInfo info;
    info.id = "fedcba9876543210";
    info.spec.pid = 77;
    info.spec.duration_s.reset();
    info.created = daemon::WallClock::time_point(std::chrono::seconds(1'700'000'000));
    auto json = daemon::session_to_json(info);
    CHECK(json.at("ended_at").is_null());
    CHECK(json.at("options").at("duration_s").is_null());
    CHECK(json.at("target").at("pid").is_null());  // not attached yet
    CHECK(!json.contains("failure"));
    CHECK(!json.contains("truncated"));
    CHECK(!json.at("target").contains("command"));
    auto back = daemon::session_from_json(json);
    REQUIRE_MESSAGE(back, back.error());
    CHECK(back->spec.pid == 77);
    CHECK(!back->spec.duration_s);
    CHECK(!back->ended);
    CHECK(back->state == SessionState::running);
}

TEST_CASE("a record from before owners, truncation and commands were kept belongs to root") {
    auto json = daemon::session_to_json(full_record());
    json.erase("owner");
    json.erase("truncated");
    json.at("target").erase("command");
    json.at("target").erase("cwd");
    json.at("target").erase("env");
    auto back = daemon::session_from_json(json);
    REQUIRE_MESSAGE(back, back.error());
    CHECK(back->owner == "uid:0");
    CHECK(back->owner_name == "root");
    CHECK(back->truncated_samples == 0);
    CHECK(back->truncated_by.empty());
    CHECK(back->spec.command.empty());
    CHECK(back->spec.env.empty());
}

TEST_CASE("what is not a session record is refused with the reason") {
    auto good = daemon::session_to_json(full_record());

    auto missing = good;
    missing.erase("samples");
    auto read = daemon::session_from_json(missing);
    REQUIRE(!read);
    CHECK(read.error().find("not a session record") != std::string::npos);

    auto state = good;
    state["state"] = "dancing";
    read = daemon::session_from_json(state);
    REQUIRE(!read);
    CHECK(read.error().find("unknown state \"dancing\"") != std::string::npos);

    auto created = good;
    created["created_at"] = "yesterday";
    read = daemon::session_from_json(created);
    REQUIRE(!read);
    CHECK(read.error().find("created_at is not a time") != std::string::npos);

    auto wrong_type = good;
    wrong_type["samples"] = "many";
    CHECK(!daemon::session_from_json(wrong_type));
    CHECK(!daemon::session_from_json(nlohmann::json::array()));
}

TEST_CASE("times are ISO 8601 in UTC to the millisecond") {
    CHECK(daemon::iso8601(daemon::WallClock::time_point(std::chrono::milliseconds(1'700'000'000'123))) ==
          "2023-11-14T22:13:20.123Z");
    CHECK(daemon::iso8601(daemon::WallClock::time_point{}) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("a worker tree's session: its processes and what it skipped read back; records from before it was an option too") {
    auto info = full_record();
    info.spec.subprocesses = true;
    info.processes = {
        {.pid = 10, .command_line = {"gunicorn", "app"}, .python_version = "3.11.2", .working_directory = "/srv",
         .standard_library = "/usr/lib/python3.11", .samples = 500, .state = daemon::SampledProcessState::sampled},
        {.pid = 11, .parent = 10, .command_line = {"gunicorn", "app"}, .python_version = "3.11.2", .samples = 40,
         .state = daemon::SampledProcessState::exited},
        {.pid = 12, .parent = 10, .state = daemon::SampledProcessState::failed, .error = "runs Python 3.16.0"},
    };
    info.skipped_processes = {.failed = 1, .not_permitted = 2, .over_limit = 3, .out_of_descriptors = 4};
    auto json = daemon::session_to_json(info);
    CHECK(json.at("errors").at("failed_processes") == 1);
    CHECK(!json.at("processes").at(0).contains("parent"));  // the target
    CHECK(json.at("processes").at(2).at("error") == "runs Python 3.16.0");
    auto back = daemon::session_from_json(json);
    REQUIRE_MESSAGE(back, back.error());
    CHECK(back->spec.subprocesses);
    REQUIRE(back->processes.size() == 3);
    CHECK(back->processes[1].pid == 11);
    CHECK(back->processes[1].parent == 10);
    CHECK(back->processes[1].samples == 40);
    CHECK(back->processes[1].state == daemon::SampledProcessState::exited);
    CHECK(back->processes[2].error == "runs Python 3.16.0");
    CHECK(back->processes[0].working_directory == "/srv");
    CHECK(back->processes[0].standard_library == "/usr/lib/python3.11");
    CHECK(back->processes[1].working_directory == "");
    CHECK(back->skipped_processes == info.skipped_processes);
    // A record saved before descriptors were counted reads as none.
    auto older = json;
    older.at("processes_skipped").erase("out_of_descriptors");
    auto older_back = daemon::session_from_json(older);
    REQUIRE_MESSAGE(older_back, older_back.error());
    CHECK(older_back->skipped_processes.out_of_descriptors == 0);
    CHECK(older_back->skipped_processes.over_limit == 3);

    // Without the option, nothing of it is written; a record from before it reads as without.
    auto plain = daemon::session_to_json(full_record());
    CHECK(!plain.contains("processes"));
    CHECK(!plain.at("errors").contains("failed_processes"));
    plain.at("options").erase("subprocesses");
    auto old = daemon::session_from_json(plain);
    REQUIRE_MESSAGE(old, old.error());
    CHECK(!old->spec.subprocesses);
    CHECK(old->processes.empty());
}

TEST_CASE("where the target's files were: in the record's target and each process; records from before read as unknown") {
    auto info = full_record();
    info.spec.subprocesses = true;
    info.processes = {{.pid = 10, .python_version = "2.7.18", .working_directory = "/srv/app",
                       .standard_library = "/opt/py/lib/python2.7", .state = daemon::SampledProcessState::sampled}};
    auto json = daemon::session_to_json(info);
    CHECK(json.at("target").at("working_directory") == "/srv/app/run");
    CHECK(json.at("target").at("standard_library") == "/usr/lib/python3.11");
    CHECK(json.at("processes").at(0).at("working_directory") == "/srv/app");
    CHECK(json.at("processes").at(0).at("standard_library") == "/opt/py/lib/python2.7");
    // Unknown is empty, and written so.
    SessionInfo unknown;
    unknown.id = "fedcba9876543210";
    CHECK(daemon::session_to_json(unknown).at("target").at("working_directory") == "");

    json.at("target").erase("working_directory");
    json.at("target").erase("standard_library");
    json.at("processes").at(0).erase("working_directory");
    json.at("processes").at(0).erase("standard_library");
    auto old = daemon::session_from_json(json);
    REQUIRE_MESSAGE(old, old.error());
    CHECK(old->working_directory == "");
    CHECK(old->standard_library == "");
    CHECK(old->processes.at(0).working_directory == "");
    CHECK(old->processes.at(0).standard_library == "");
    CHECK(old->python_version == "3.11.2");
}
