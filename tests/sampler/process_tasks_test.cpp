// sampler::ProcessTasks: ids a process knows its threads by, checked against its
// tasks and translated to the host's, on real processes (this test's own, and a
// child in its own PID namespace).
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "sampler/process_tasks.hpp"
#include "tests/support/child_process.hpp"

using namespace pyprofd;
using sampler::TaskIds;

namespace {

// The first child of `pid`, once it has one and it runs `program`.
pid_t child_running(pid_t pid, const std::string& program) {
    for (int i = 0; i < 2000; ++i) {
        std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
        pid_t child = 0;
        if (children >> child) {
            std::ifstream comm("/proc/" + std::to_string(child) + "/comm");
            std::string name;
            if (comm >> name && name == program) return child;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return 0;
}

}  // namespace

TEST_CASE("NSpid gives the id in the /proc's namespace and in the innermost one") {
    auto ids = sampler::parse_nspid("Name:\tpython3\nTgid:\t4242\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\n");
    REQUIRE(ids);
    CHECK(ids->outer == 4242);
    CHECK(ids->inner == 1);
    ids = sampler::parse_nspid("NSpid:\t99\n");
    REQUIRE(ids);
    CHECK(ids->outer == 99);
    CHECK(ids->inner == 99);
    CHECK_FALSE(sampler::parse_nspid("Name:\tx\nPid:\t5\n"));
    CHECK_FALSE(sampler::parse_nspid("NSpid:\t\n"));
    CHECK_FALSE(sampler::parse_nspid("NSpid:\t12\tx\n"));
    CHECK_FALSE(sampler::parse_nspid("NSpid:\t-3\n"));
}

TEST_CASE("in pyprofd's own PID namespace an id counts only if it is a task of the process") {
    tests::ChildProcess other({.argv = {"sleep", "600"}});
    sampler::ProcessTasks tasks(::getpid());
    CHECK_FALSE(tasks.in_other_namespace());
    CHECK(tasks.namespace_pid() == ::getpid());
    pid_t worker_tid = 0;
    std::thread worker([&] { worker_tid = ::gettid(); });
    worker.join();  // its id is no task any more
    for (int sample = 0; sample < 2; ++sample) {  // the second from what was learnt
        tasks.begin_sample();
        CHECK(tasks.find(::gettid()) == TaskIds{::gettid(), ::gettid()});
        // Another process's task, as a forked worker's thread state names its parent.
        CHECK_FALSE(tasks.find(other.pid()));
        CHECK_FALSE(tasks.find(worker_tid));
        CHECK_FALSE(tasks.find(0));
        tasks.end_sample();
    }
}

TEST_CASE("in its own PID namespace a process's ids are translated to the host's") {
    tests::ChildProcess unshare({.argv = {"unshare", "--pid", "--kill-child", "sleep", "600"}});
    pid_t sleeper = child_running(unshare.pid(), "sleep");
    REQUIRE(sleeper > 0);
    sampler::ProcessTasks tasks(sleeper);
    CHECK(tasks.in_other_namespace());
    CHECK(tasks.namespace_pid() == 1);
    CHECK(tasks.list() == std::vector<TaskIds>{{sleeper, 1}});
    for (int sample = 0; sample < 2; ++sample) {
        tasks.begin_sample();
        CHECK(tasks.find(1) == TaskIds{sleeper, 1});
        // Its host PID names nothing in its namespace.
        CHECK_FALSE(tasks.find(sleeper));
        tasks.end_sample();
    }
}
