// The descriptor budget the thread files kept open are counted against
// (descriptor_budget.hpp), and thread activity readers that share one, on the real
// /proc of this test's own threads.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "sampler/descriptor_budget.hpp"
#include "sampler/python_process.hpp"
#include "sampler/thread_activity.hpp"

using namespace pyprofd::sampler;

namespace {

std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

// Threads that sleep until the end of the test, and say their ids.
struct SleepingThreads {
    std::atomic<bool> stop{false};
    std::vector<std::atomic<pid_t>> tids;
    std::vector<std::thread> threads;
    explicit SleepingThreads(std::size_t count) : tids(count) {
        for (std::size_t i = 0; i < count; ++i)
            threads.emplace_back([this, i] {
                tids[i] = static_cast<pid_t>(::syscall(SYS_gettid));
                while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            });
        for (auto& tid : tids)
            while (tid == 0) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // asleep now
    }
    ~SleepingThreads() {
        stop = true;
        for (auto& t : threads) t.join();
    }
};

}  // namespace

TEST_CASE("a descriptor budget counts up to its cap, and a lower cap holds off new ones") {
    DescriptorBudget budget(3);
    CHECK(budget.try_take());
    CHECK(budget.try_take());
    CHECK(budget.try_take());
    CHECK_FALSE(budget.try_take());
    CHECK(budget.held() == 3);
    budget.give_back();
    CHECK(budget.try_take());
    budget.set_cap(1);
    budget.give_back();
    CHECK_FALSE(budget.try_take());  // 2 held, cap 1
    budget.give_back();
    budget.give_back();
    CHECK(budget.held() == 0);
    CHECK(budget.try_take());
    CHECK_FALSE(budget.try_take());
}

TEST_CASE("a grant takes several at once or none, and gives them back when it goes") {
    DescriptorBudget budget(10);
    auto first = DescriptorGrant::take(budget, 6);
    REQUIRE(first);
    CHECK(budget.held() == 6);
    CHECK_FALSE(DescriptorGrant::take(budget, 6));  // 12 would pass 10: nothing taken
    CHECK(budget.held() == 6);
    {
        auto moved = std::move(*first);
        CHECK(first->count() == 0);
        CHECK(budget.held() == 6);  // moved, not given back twice
    }
    CHECK(budget.held() == 0);
    auto second = DescriptorGrant::take(budget, 10);
    REQUIRE(second);
    *second = DescriptorGrant();
    CHECK(budget.held() == 0);
}

TEST_CASE("attaching a process takes its share of the budget for processes, and is refused at the cap") {
    auto& budget = process_descriptor_budget();
    const auto cap = budget.cap();
    budget.set_cap(budget.held() + descriptors_per_attached_process - 1);
    auto refused = PythonProcess::attach(::getpid());
    budget.set_cap(cap);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::out_of_descriptors);
    CHECK(refused.error().message.find("raise the limit (LimitNOFILE=, ulimit -n)") != std::string::npos);
    // This test is no Python: the attach that gets its share fails for that instead,
    // and gives the share back.
    const auto held = budget.held();
    auto not_python = PythonProcess::attach(::getpid());
    REQUIRE_FALSE(not_python);
    CHECK(not_python.error().kind != ErrorKind::out_of_descriptors);
    CHECK(budget.held() == held);
}

TEST_CASE("threads taking from one budget at once never pass its cap") {
    DescriptorBudget budget(1000);
    std::atomic<std::size_t> taken{0};
    std::vector<std::thread> takers;
    for (int i = 0; i < 4; ++i)
        takers.emplace_back([&] {
            for (int j = 0; j < 600; ++j)
                if (budget.try_take()) ++taken;
        });
    for (auto& t : takers) t.join();
    CHECK(taken == 1000);
    CHECK(budget.held() == 1000);
}

TEST_CASE("the process's budgets for thread files and for attached processes are, until set, a quarter of the soft "
          "descriptor limit") {
    rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur == RLIM_INFINITY) {
        MESSAGE("skipped: no descriptor limit");
        return;
    }
    CHECK(thread_file_budget().cap() == limit.rlim_cur / 4);
    CHECK(process_descriptor_budget().cap() == limit.rlim_cur / 4);
}

TEST_CASE("readers that share a budget keep at most its cap of files open, and still read every thread") {
    SleepingThreads sleepers(12);
    DescriptorBudget budget(6);
    const auto before = open_descriptors();
    {
        auto first = std::make_unique<ThreadActivityReader>(::getpid(), budget);
        auto second = std::make_unique<ThreadActivityReader>(::getpid(), budget);
        for (int round = 0; round < 3; ++round)
            for (auto& tid : sleepers.tids) {
                CHECK(first->read(tid) == ThreadActivity::idle);
                CHECK(second->read(tid) == ThreadActivity::idle);
                // A schedstat reading where the kernel keeps them; the same either way
                // from a kept file and from one opened for it.
                CHECK(first->run_count(tid).has_value() == second->run_count(tid).has_value());
            }
        CHECK(budget.held() == 6);
        CHECK(first->open_files() + second->open_files() == 6);
        // The kept files, and each reader's task directory.
        CHECK(open_descriptors() <= before + 6 + 2);

        // What one reader gives back, the other may keep.
        first.reset();
        CHECK(budget.held() == second->open_files());
        for (auto& tid : sleepers.tids) CHECK(second->read(tid) == ThreadActivity::idle);
        CHECK(second->open_files() == 6);
    }
    CHECK(budget.held() == 0);
    CHECK(open_descriptors() == before);
}
