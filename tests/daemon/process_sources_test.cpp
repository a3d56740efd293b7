// Which processes' sources a session's outputs carry: its target first, then the
// other processes of its tree that were attached; and its folded stacks say so in
// their header.
#include <doctest/doctest.h>

#include "daemon/process_sources.hpp"
#include "daemon/session_output.hpp"

using namespace pyprofd;

namespace {

daemon::SessionInfo tree_session() {
    daemon::SessionInfo info;
    info.id = "0123456789abcdef";
    info.spec.pid = 10;
    info.spec.subprocesses = true;
    info.target_pid = 10;
    info.python_version = "3.11.7";
    info.working_directory = "/srv/app";
    info.standard_library = "/usr/lib/python3.11";
    info.processes = {
        {.pid = 10, .python_version = "3.11.7", .working_directory = "/srv/app",
         .standard_library = "/usr/lib/python3.11", .state = daemon::SampledProcessState::sampled},
        {.pid = 11, .parent = 10, .python_version = "3.11.7", .working_directory = "/srv/app/w",
         .standard_library = "/usr/lib/python3.11", .state = daemon::SampledProcessState::exited},
        {.pid = 12, .parent = 10, .state = daemon::SampledProcessState::failed, .error = "runs Python 3.16.0"},
    };
    return info;
}

}  // namespace

TEST_CASE("a session's sources: the target first, then the tree's attached processes") {
    auto sources = daemon::session_sources(tree_session());
    CHECK(sources == render::ProfileSources{
                         {.pid = 10, .python_version = "3.11.7", .working_directory = "/srv/app",
                          .standard_library = "/usr/lib/python3.11"},
                         {.pid = 11, .python_version = "3.11.7", .working_directory = "/srv/app/w",
                          .standard_library = "/usr/lib/python3.11"},
                     });
    // Without a tree, the target only; never attached, none.
    auto single = tree_session();
    single.spec.subprocesses = false;
    CHECK(daemon::session_sources(single).size() == 1);
    auto never = tree_session();
    never.target_pid = 0;
    CHECK(daemon::session_sources(never).empty());
}

TEST_CASE("a session's folded stacks start with its sources") {
    auto info = tree_session();
    render::Profile profile;
    profile.add_labels(std::vector<std::string>{"process 10 (app)", "thread (10)", "main (app.py:1)"}, 3);
    auto folded = daemon::session_profile_as(render::OutputFormat::folded, info, profile,
                                             daemon::session_output_details(info));
    REQUIRE(folded);
    CHECK(folded->starts_with(
        "# pyprofd folded stacks: lines starting with '#' are metadata\n"
        "# source: {\"pid\":10,\"python\":\"3.11.7\",\"cwd\":\"/srv/app\",\"stdlib\":\"/usr/lib/python3.11\"}\n"
        "# source: {\"pid\":11,\"python\":\"3.11.7\",\"cwd\":\"/srv/app/w\",\"stdlib\":\"/usr/lib/python3.11\"}\n"
        "process 10 (app);"));
}
