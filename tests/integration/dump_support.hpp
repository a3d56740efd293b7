#pragma once
// Helpers of the dump tests: run `pyprofd dump` on real targets, find the lines
// the targets mark, and retry while a target is still on its way to its steady state.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/interpreters.hpp"

namespace pyprofd::tests {

inline std::string target_path(const std::string& name) { return source_path("tests/targets/" + name); }

// The line of a target that carries "# mark: <mark>".
inline int line_of(const std::string& file, const std::string& mark) {
    std::ifstream in(file);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
        if (line.ends_with("# mark: " + mark)) return n;
    FAIL("no mark '" << mark << "' in " << file);
    return -1;
}

inline CommandResult run_dump(pid_t pid, bool json = true) {
    std::vector<std::string> argv = {pyprofd_binary(), "dump", "--pid", std::to_string(pid)};
    if (json) argv.push_back("--json");
    return run_command({.argv = argv});
}

// Dumps until `ready` holds of the result (a target may still be on its way into
// its loop), at most ~10 s; returns the last dump either way.
inline nlohmann::json dump_until(pid_t pid, const std::function<bool(const nlohmann::json&)>& ready) {
    nlohmann::json last;
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto r = run_dump(pid);
        REQUIRE_MESSAGE(r.exit_code == 0, "pyprofd dump failed: " << r.err);
        last = nlohmann::json::parse(r.out);
        if (ready(last)) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
}

inline const nlohmann::json* thread_with_id(const nlohmann::json& dump, pid_t tid) {
    for (const auto& t : dump["threads"])
        if (t["native_id"].is_number() && t["native_id"].get<pid_t>() == tid) return &t;
    return nullptr;
}

inline bool innermost_is(const nlohmann::json& dump, pid_t tid, const std::string& function, int line) {
    auto t = thread_with_id(dump, tid);
    if (!t || (*t)["frames"].empty()) return false;
    const auto& f = (*t)["frames"][0];
    return f["function"] == function && f["line"] == line;
}

// Starts a target with an interpreter and waits for its READY line.
struct Target {
    Target(const Interpreter& py, std::vector<std::string> args, std::string cwd = {})
        : child(make_options(py, std::move(args), std::move(cwd))) {
        ready = child.wait_for_line("READY");
        if (!ready) MESSAGE("target did not get ready; its output:\n" << child.output());
    }
    static SpawnOptions make_options(const Interpreter& py, std::vector<std::string> args, std::string cwd) {
        SpawnOptions o = py.spawn(args, std::move(cwd));  // through its chroot, where it has one
        o.extra_env = {"PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
        return o;
    }
    pid_t pid() const { return child.pid(); }
    ChildProcess child;
    bool ready = false;
};

}  // namespace pyprofd::tests
