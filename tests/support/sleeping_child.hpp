#pragma once
// A child of the test that sleeps (as another user, if asked) until the test ends,
// handed over once it runs sleep: its credentials and /proc files are then
// sleep's, no longer those of the test that forked it.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "tests/support/child_process.hpp"

namespace pyprofd::tests {

inline std::unique_ptr<ChildProcess> sleeping_child(std::optional<uid_t> run_as = std::nullopt) {
    auto child = std::make_unique<ChildProcess>(SpawnOptions{.argv = {"sleep", "600"}, .run_as = run_as});
    auto exe = "/proc/" + std::to_string(child->pid()) + "/exe";
    for (int i = 0; i < 1000; ++i) {
        std::error_code ec;
        auto path = std::filesystem::read_symlink(exe, ec).string();
        if (!ec && path.ends_with("/sleep")) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return child;
}

}  // namespace pyprofd::tests
