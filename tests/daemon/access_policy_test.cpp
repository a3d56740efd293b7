// The daemon's trust rules on real processes: a caller may profile what the
// kernel would let it trace (its own uid throughout, its own group, dumpable),
// root and the admin group anything; targets.allowed_uids and
// allowed_executables narrow that for everyone; programs are launched only where
// allow_commands says, as the caller; sessions are seen by their owner and admins.
// The targets are children of the test (run as nobody, 65534), killed at its end.
#include <doctest/doctest.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "daemon/access_policy.hpp"
#include "tests/support/sleeping_child.hpp"

using namespace pyprofd;
using daemon::AccessPolicy;

namespace {

constexpr uid_t nobody = 65534;
constexpr gid_t nogroup = 65534;
constexpr uid_t stranger = 4321;  // in no user database

// A forked child that changes its credentials as `become` says and waits to be
// killed. Without an exec after the change, the kernel marks it not dumpable.
class ForkedChild {
public:
    explicit ForkedChild(const std::function<bool()>& become) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(ready[0]);
            if (!become()) ::_exit(1);
            char ok = 1;
            if (::write(ready[1], &ok, 1) != 1) ::_exit(1);
            for (;;) ::pause();
        }
        ::close(ready[1]);
        char ok = 0;
        REQUIRE(::read(ready[0], &ok, 1) == 1);
        ::close(ready[0]);
    }
    ~ForkedChild() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

bool become(uid_t uid, gid_t gid) {
    return ::setgroups(0, nullptr) == 0 && ::setresgid(gid, gid, gid) == 0 && ::setresuid(uid, uid, uid) == 0;
}

AccessPolicy policy_with(const std::function<void(config::DaemonConfig&)>& change = {}) {
    config::DaemonConfig config;
    if (change) change(config);
    auto policy = AccessPolicy::from(config, "/etc/pyprofd/pyprofd.yaml");
    REQUIRE_MESSAGE(policy, policy.error());
    return std::move(*policy);
}

bool says(const std::expected<void, std::string>& answer, const std::string& words) {
    return !answer && answer.error().find(words) != std::string::npos;
}

}  // namespace

TEST_CASE("a user may profile its own dumpable processes, and no one else's") {
    auto policy = policy_with();
    auto own = tests::sleeping_child(nobody);  // exec'd after the change: dumpable
    auto user = policy.local_caller(nobody, nogroup);
    CHECK(!user.admin);
    CHECK(user.user == "nobody");
    CHECK(policy.allows_process(user, own->pid()));
    // Over loopback TCP the kernel says no group: the user's own stands in.
    auto by_tcp = policy.local_caller(nobody);
    CHECK(by_tcp.gid == nogroup);
    CHECK(policy.allows_process(by_tcp, own->pid()));

    auto other = policy.local_caller(stranger);
    CHECK(other.user == "4321");
    CHECK(says(policy.allows_process(other, own->pid()),
               "runs as uid 65534 (nobody); you (uid 4321 (4321)) may profile only processes of your own user"));
    // Root's processes are not a user's either.
    CHECK(says(policy.allows_process(user, ::getppid()), "runs as uid 0 (root)"));
}

TEST_CASE("a process that is not dumpable, or runs with another group, is for root and admins only") {
    auto policy = policy_with();
    auto user = policy.local_caller(nobody, nogroup);
    ForkedChild undumpable([] { return become(nobody, nogroup); });
    CHECK(says(policy.allows_process(user, undumpable.pid()), "is not dumpable"));
    ForkedChild other_group([] { return become(nobody, 100); });
    CHECK(says(policy.allows_process(user, other_group.pid()), "runs with group ids 100/100/100"));

    auto root = policy.local_caller(0);
    CHECK(root.admin);
    CHECK(policy.allows_process(root, undumpable.pid()));
    CHECK(policy.allows_process(root, other_group.pid()));
}

TEST_CASE("members of access.admin_group may profile any process") {
    auto policy = policy_with([](config::DaemonConfig& c) { c.access.admin_group = "nogroup"; });
    auto roots = tests::sleeping_child();
    auto admin = policy.local_caller(stranger, nogroup);  // the kernel said its group
    CHECK(admin.admin);
    CHECK(admin.describe() == "uid 4321 (4321), admin");
    CHECK(policy.allows_process(admin, roots->pid()));
    auto not_admin = policy.local_caller(stranger, 100);
    CHECK(!not_admin.admin);
    CHECK(says(policy.allows_process(not_admin, roots->pid()), "runs as uid 0"));

    auto no_group = [] {
        config::DaemonConfig c;
        c.access.admin_group = "no-such-group-here";
        return AccessPolicy::from(c);
    }();
    REQUIRE(!no_group);
    CHECK(no_group.error() == "access.admin_group: no group 'no-such-group-here' on this host");
}

TEST_CASE("targets.allowed_uids and allowed_executables narrow what even root may profile") {
    auto nobodys = tests::sleeping_child(nobody);
    auto roots = tests::sleeping_child();

    auto by_uid = policy_with([](config::DaemonConfig& c) { c.targets.allowed_uids = {0}; });
    auto root = by_uid.local_caller(0);
    CHECK(by_uid.allows_process(root, roots->pid()));
    CHECK(says(by_uid.allows_process(root, nobodys->pid()), "runs as uid 65534, which targets.allowed_uids does not list"));

    auto by_path = policy_with([](config::DaemonConfig& c) { c.targets.allowed_executables = {"/usr/bin/python3*"}; });
    CHECK(says(by_path.allows_process(root, roots->pid()), "which no glob of targets.allowed_executables matches"));
    auto sleeps = policy_with([](config::DaemonConfig& c) {
        c.targets.allowed_executables = {"/usr/bin/sl*p", "/bin/sleep"};
    });
    CHECK(sleeps.allows_process(root, roots->pid()));
}

TEST_CASE("pyprofd never profiles itself") {
    auto policy = policy_with();
    CHECK(says(policy.allows_process(policy.local_caller(0), ::getpid()), "pyprofd does not profile itself"));
}

TEST_CASE("programs are launched only where allow_commands says, as the caller") {
    auto off = policy_with();
    auto refused = off.launch_user(off.local_caller(0));
    REQUIRE(!refused);
    CHECK(refused.error().find("targets.allow_commands is off") != std::string::npos);
    CHECK(refused.error().find("/etc/pyprofd/pyprofd.yaml") != std::string::npos);

    auto on = policy_with([](config::DaemonConfig& c) {
        c.targets.allow_commands = true;
        c.access.tokens = {{.name = "ci", .file = {}, .admin = true, .user = {}},
                           {.name = "batch", .file = {}, .admin = false, .user = "nobody"}};
    });
    auto as_user = on.launch_user(on.local_caller(nobody, nogroup));
    REQUIRE(as_user);
    CHECK(as_user->uid == nobody);
    CHECK(as_user->name == "nobody");
    auto as_root = on.launch_user(on.local_caller(0));
    REQUIRE(as_root);
    CHECK(as_root->uid == 0);
    // An admin token is no user: its programs run as targets.command_user.
    auto admin_token = on.token_caller({.name = "ci", .file = {}, .admin = true, .user = {}});
    CHECK(admin_token.owner() == "token:ci");
    auto as_command_user = on.launch_user(admin_token);
    REQUIRE(as_command_user);
    CHECK(as_command_user->name == "nobody");
    auto user_token = on.token_caller({.name = "batch", .file = {}, .admin = false, .user = "nobody"});
    CHECK(user_token.owner() == "uid:65534");
    CHECK(on.launch_user(user_token)->uid == nobody);

    auto narrowed = policy_with([](config::DaemonConfig& c) {
        c.targets.allow_commands = true;
        c.targets.allowed_uids = {0};
        c.targets.allowed_executables = {"/usr/bin/python3*"};
    });
    auto not_listed = narrowed.launch_user(narrowed.local_caller(nobody, nogroup));
    REQUIRE(!not_listed);
    CHECK(not_listed.error() == "the command (as nobody) runs as uid 65534, which targets.allowed_uids does not list");
    auto not_matched = narrowed.launch_as(narrowed.local_caller(0), "/usr/bin/env");
    REQUIRE(!not_matched);
    CHECK(not_matched.error() == "the command runs /usr/bin/env, which no glob of targets.allowed_executables matches");
    CHECK(narrowed.launch_as(narrowed.local_caller(0), "/usr/bin/python3.11"));
}

TEST_CASE("a session is seen by its owner, however it came, and by admins") {
    auto policy = policy_with([](config::DaemonConfig& c) {
        c.access.tokens = {{.name = "batch", .file = {}, .admin = false, .user = "nobody"}};
    });
    auto by_socket = policy.local_caller(nobody, nogroup);
    auto by_token = policy.token_caller({.name = "batch", .file = {}, .admin = false, .user = "nobody"});
    CHECK(policy.may_see(by_socket, by_token.owner()));
    CHECK(policy.may_see(by_token, by_socket.owner()));
    CHECK(!policy.may_see(policy.local_caller(stranger), by_socket.owner()));
    CHECK(policy.may_see(policy.local_caller(0), by_socket.owner()));
}
