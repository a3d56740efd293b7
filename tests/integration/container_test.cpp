// Pythons in containers, profiled by their host PID: in their own PID and mount
// namespaces (unshare, with /proc mounted afresh inside), and in a chroot as well
// (the Debian sid root), the way a container runtime starts one. Stacks must come
// out exact, threads with the host's TIDs and, beside them, the TIDs the container
// sees (NSpid), and paths as the process sees them.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/record_support.hpp"

using namespace pyprofd::tests;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The TID each task of a process has in the innermost PID namespace: the last field
// of NSpid in /proc/PID/task/TID/status, by host TID.
std::map<pid_t, pid_t> namespace_tids(pid_t pid) {
    std::map<pid_t, pid_t> out;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        std::ifstream status(task.path() / "status");
        std::string line;
        while (std::getline(status, line)) {
            if (!line.starts_with("NSpid:")) continue;
            std::istringstream fields(line.substr(6));
            pid_t id = 0, last = 0;
            while (fields >> id) last = id;
            out[std::stoi(task.path().filename().string())] = last;
        }
    }
    return out;
}

// A Python started by unshare(1) in new PID and mount namespaces, /proc mounted
// inside; with a root directory, chrooted into it too. unshare forks the Python
// (PID 1 inside) and is killed with the test, and kills it (--kill-child).
struct ContainedPython {
    ContainedPython(const std::string& python, std::vector<std::string> args, const std::string& root = {})
        : unshare(options(python, std::move(args), root)) {
        ready = unshare.wait_for_line("READY");
        if (!ready) {
            MESSAGE("target did not get ready; its output:\n" << unshare.output());
            return;
        }
        auto children = "/proc/" + std::to_string(unshare.pid()) + "/task/" + std::to_string(unshare.pid()) + "/children";
        std::ifstream in(children);
        in >> host_pid;
        ready = host_pid > 0;
    }
    static SpawnOptions options(const std::string& python, std::vector<std::string> args, const std::string& root) {
        SpawnOptions o;
        o.argv = {"unshare", "--pid", "--mount", "--fork", "--kill-child"};
        if (!root.empty()) o.argv.push_back("--root=" + root);
        o.argv.push_back("--mount-proc");  // after the chroot: the root's own /proc
        o.argv.push_back(python);
        for (auto& a : args) o.argv.push_back(std::move(a));
        o.extra_env = {"PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
        return o;
    }
    ChildProcess unshare;
    pid_t host_pid = 0;
    bool ready = false;
};

// deep.py's stack at `depth`, innermost first, exactly; from `file` as the process names it.
void check_deep_stack(const json& thread, int depth, const std::string& file, const std::string& source) {
    const auto& frames = thread["frames"];
    REQUIRE_MESSAGE(frames.size() == static_cast<std::size_t>(depth + 3), thread.dump(2));
    CHECK(frames[0]["function"] == "leaf");
    CHECK(frames[0]["line"] == line_of(source, "leaf-loop"));
    CHECK(frames[1]["function"] == "descend");
    CHECK(frames[1]["line"] == line_of(source, "descend-leaf"));
    for (int i = 2; i < depth + 2; ++i) {
        INFO("frame " << i);
        CHECK(frames[i]["function"] == "descend");
        CHECK(frames[i]["line"] == line_of(source, "descend-recurse"));
    }
    CHECK(frames[depth + 2]["function"] == "<module>");
    CHECK(frames[depth + 2]["line"] == line_of(source, "module-call"));
    for (const auto& f : frames) CHECK(f["filename"] == file);
}

// A dump of a process in a container: exact stacks of deep.py, its main thread with
// the host's TID and the container's (1), by its host PID.
void check_deep_dump(pid_t host_pid, int depth, const std::string& file, const std::string& source) {
    auto dump = dump_until(host_pid, [&](const json& d) {
        auto t = thread_with_id(d, host_pid);
        return innermost_is(d, host_pid, "leaf", line_of(source, "leaf-loop")) && t && (*t)["holds_gil"] == true;
    });
    CHECK(dump["pid"] == host_pid);
    CHECK(dump["namespace_pid"] == 1);
    auto main = thread_with_id(dump, host_pid);
    REQUIRE_MESSAGE(main, "no thread with the host's TID " << host_pid << " in " << dump.dump(2));
    CHECK((*main)["namespace_tid"] == 1);
    CHECK((*main)["name"] == "MainThread");
    CHECK((*main)["activity"] == "running");
    CHECK((*main)["error"].is_null());
    check_deep_stack(*main, depth, file, source);
}

// A dump of named_threads.py in a container: every thread with its host TID (a
// task of the process) and its container TID (that task's NSpid); the waiting ones idle.
void check_threads_dump(pid_t host_pid, std::size_t workers, const std::string& source) {
    int worker_wait = line_of(source, "worker-wait");
    auto dump = dump_until(host_pid, [&](const json& d) {
        // Settled: every worker in its wait (a thread that just got there may still be
        // runnable for a moment), the main thread asleep. The main thread wakes every
        // second to sleep again, on the same line: running (or runnable, on a busy
        // host) for that moment, which one dump in CI caught.
        std::size_t waiting = 0;
        for (const auto& t : d["threads"])
            for (const auto& f : t["frames"]) waiting += f["line"] == worker_wait && t["activity"] == "idle";
        auto main = thread_with_id(d, host_pid);
        return waiting == workers && innermost_is(d, host_pid, "<module>", line_of(source, "main-sleep")) &&
               main && (*main)["activity"] == "idle";
    });
    auto tasks = namespace_tids(host_pid);
    REQUIRE(dump["threads"].size() == workers + 1);
    std::set<pid_t> host_tids;
    for (const auto& t : dump["threads"]) {
        INFO(t.dump());
        REQUIRE(t["native_id"].is_number());
        pid_t tid = t["native_id"];
        host_tids.insert(tid);
        REQUIRE_MESSAGE(tasks.contains(tid), "not a task of process " << host_pid);
        CHECK(tasks[tid] != tid);
        CHECK(t["namespace_tid"] == tasks[tid]);
        CHECK(t["activity"] == "idle");  // read from the host TID's /proc files: all wait
        CHECK(t["error"].is_null());
    }
    CHECK(host_tids.size() == workers + 1);
    CHECK(host_tids.contains(host_pid));
}

// The Pythons of the Debian sid root (scripts/make-sid-root, sid_root()) to run in it.
std::vector<std::string> sid_pythons() {
    // PYPROFD_SID_PYTHONS chooses others (python3.13, say, where this build reads no 3.14).
    const char* chosen = std::getenv("PYPROFD_SID_PYTHONS");
    std::istringstream in(chosen && *chosen ? chosen : "python3.14 python3.15");
    std::vector<std::string> out;
    for (std::string name; in >> name;) out.push_back(name);
    return out;
}

// A directory of this test's under the root's /tmp, with the targets in it; removed after.
struct DirInRoot {
    explicit DirInRoot(const std::string& root) {
        std::string pattern = root + "/tmp/pyprofd-container-test-XXXXXX";
        if (::mkdtemp(pattern.data())) host_path = pattern;
        inside = "/tmp/" + fs::path(host_path).filename().string();
        fs::permissions(host_path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    }
    DirInRoot(const DirInRoot&) = delete;
    DirInRoot& operator=(const DirInRoot&) = delete;
    ~DirInRoot() {
        std::error_code ec;
        if (!host_path.empty()) fs::remove_all(host_path, ec);
    }
    std::string copy(const std::string& target) const {
        fs::copy_file(target_path(target), fs::path(host_path) / target);
        return inside + "/" + target;
    }
    std::string host_path;  // as the test sees it
    std::string inside;     // as the contained process sees it
};

// A missing thing skips locally and fails in CI, saying which.
void skip_or_fail(const std::string& what) {
    if (interpreters_required()) FAIL("MISSING in CI: " << what);
    MESSAGE("SKIPPED: " << what);
}

// One Python of the sid root: exact stacks, host and container TIDs, paths as it sees them.
void check_sid_python(const std::string& root, const std::string& python) {
    const int depth = 30;
    auto executable = "/usr/bin/" + python;
    if (!fs::exists(root + executable)) return skip_or_fail(python + ": no " + executable + " in " + root);
    DirInRoot dir(root);
    REQUIRE(!dir.host_path.empty());
    auto deep = dir.copy("deep.py");
    auto threads = dir.copy("named_threads.py");

    ContainedPython target(executable, {deep, std::to_string(depth)}, root);
    REQUIRE(target.ready);
    auto first = run_dump(target.host_pid);
    if (first.exit_code != 0 && first.err.find("which pyprofd cannot read") != std::string::npos)
        return skip_or_fail(python + ": this build of pyprofd cannot read it: " + first.err);
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    check_deep_dump(target.host_pid, depth, deep, target_path("deep.py"));
    // Paths as the process sees them: inside its root, the root not in front.
    auto dump = json::parse(run_dump(target.host_pid).out);
    CHECK(dump["executable"].get<std::string>().starts_with("/usr/bin/python3"));
    CHECK(dump["python"]["binary"].get<std::string>().starts_with("/usr/"));
    CHECK(dump["python"]["binary"].get<std::string>().find(root) == std::string::npos);

    ContainedPython threaded(executable, {threads, "worker-1", "worker-2"}, root);
    REQUIRE(threaded.ready);
    check_threads_dump(threaded.host_pid, 2, target_path("named_threads.py"));
}

}  // namespace

TEST_CASE("a Python in its own PID and mount namespace: exact stacks by its host PID, host and container TIDs") {
    const int depth = 25;
    auto deep = target_path("deep.py");
    for (const auto& py : interpreters()) {
        if (py.in_chroot()) continue;  // the sid root's own case below runs them, unshared into their root
        SUBCASE(py.label.c_str()) {
            ContainedPython target(py.executable, {deep, std::to_string(depth)});
            REQUIRE(target.ready);
            check_deep_dump(target.host_pid, depth, deep, deep);

            // The text form says both ids.
            auto text = run_dump(target.host_pid, false);
            REQUIRE(text.exit_code == 0);
            auto pid = std::to_string(target.host_pid);
            CHECK(text.out.starts_with("Process " + pid + " [PID 1 in its PID namespace]: " + py.executable + " "));
            CHECK(text.out.find("\nThread " + pid + " [TID 1 in its PID namespace] (active") != std::string::npos);

            // record --pid: the main thread's root carries its host TID.
            ScratchDir dir;
            auto out = dir.file("p.folded");
            auto r = run_record({"--pid", pid, "--rate", "200", "--duration", "0.6", "--threads", "-o", out});
            REQUIRE_MESSAGE(r.exit_code == 0, r.err);
            auto profile = read_folded_file(out);
            CHECK(profile.samples_where([&](const std::string& s) {
                return s.starts_with("thread \"MainThread\" (" + pid + ");") && s.find(";leaf (") != std::string::npos;
            }) > 50);
        }
    }
}

TEST_CASE("a Python's threads in its own PID namespace: each with its host TID and the TID the container sees") {
    auto file = target_path("named_threads.py");
    for (const auto& py : interpreters()) {
        if (py.in_chroot()) continue;  // the sid root's own case below runs them, unshared into their root
        SUBCASE(py.label.c_str()) {
            ContainedPython target(py.executable, {file, "worker-1", "worker-2", "worker-3"});
            REQUIRE(target.ready);
            check_threads_dump(target.host_pid, 3, file);
        }
    }
}

TEST_CASE("a Python chrooted into the Debian sid root, in its own namespaces: read by its host PID, paths as it sees them") {
    const auto root = sid_root();
    if (!fs::exists(fs::path(root) / "usr/bin"))
        return skip_or_fail("the Debian sid root " + root +
                            " (scripts/make-sid-root makes it; PYPROFD_SID_ROOT names another)");
    for (const auto& python : sid_pythons()) {
        SUBCASE(python.c_str()) { check_sid_python(root, python); }
    }
}
