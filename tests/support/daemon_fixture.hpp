#pragma once
// A session manager for the daemon's unit tests: its state in the test's own
// scratch directory, processes attached through a stand-in (fake_attach.hpp), and
// the callers the tests act as.
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "daemon/access_policy.hpp"
#include "daemon/session_manager.hpp"
#include "tests/support/fake_attach.hpp"
#include "tests/support/scratch_dir.hpp"

namespace pyprofd::tests {

struct DaemonFixture {
    ScratchDir dir;
    config::DaemonConfig config;

    DaemonFixture() {
        config.state_dir = dir.file("state");
        config.limits.max_duration_s = 60;
    }

    daemon::SessionStore store() const {
        auto store = daemon::SessionStore::open(config.state_dir);
        if (!store) throw std::runtime_error(store.error());
        return std::move(*store);
    }
    daemon::AccessPolicy policy() const {
        auto policy = daemon::AccessPolicy::from(config);
        if (!policy) throw std::runtime_error(policy.error());
        return std::move(*policy);
    }
    std::unique_ptr<daemon::SessionManager> manager(
        daemon::SessionManager::AttachProcess attach = &attach_fake_python) const {
        return std::make_unique<daemon::SessionManager>(config, store(), policy(), std::move(attach));
    }

    daemon::Caller root() const { return policy().local_caller(0); }
    daemon::Caller user(uid_t uid, gid_t gid) const { return policy().local_caller(uid, gid); }
};

// A session of this process at this rate, for this long.
inline daemon::SessionSpec spec_for(pid_t pid, double rate_hz = 200, double duration_s = 30) {
    daemon::SessionSpec spec;
    spec.pid = pid;
    spec.rate_hz = rate_hz;
    spec.duration_s = duration_s;
    return spec;
}

// Waits up to `limit` for `done`; whether it came.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace pyprofd::tests
