#!/usr/bin/env python3
"""The service under a real systemd: Debian 12 booted with systemd as PID 1 in a
container (systemd-nspawn), pyprofd installed into it with `cmake --install`, and
driven through systemctl and its unix socket, as root and as a user of the
container:

- `systemctl start` reaches active (running) through sd_notify READY=1, and every
  setting of the unit is in force (its IP firewall, its /proc view);
- root profiles a Python process of the container and gets its flame.svg;
- with the shipped configuration and unit, a command session is refused, saying
  how to allow it;
- a user's request for root's process is refused (403, saying why), while its own
  process is profiled, and root's session is not the user's to see (404);
- unix_socket_group gives the socket to that group;
- SIGSTOP: the watchdog restarts the service, which still serves the sessions that
  had finished (a running one comes back interrupted);
- `systemctl stop`: a running session ends `stopped`, saved;
- with targets.allow_commands on, launching a program needs the drop-in
  allow-commands.conf; with it, the program runs as the user who asked (uid,
  groups, HOME), reaches its flame.svg, and ends when its session is stopped;
- `systemd-analyze security` on the unit as loaded: 2.5 or better.

The root is made by debootstrap once and cached in BUILD/systemd-root (about 250
MB); each run boots an overlay of it. Where the container cannot be made or booted
(not root, no systemd-nspawn, no namespaces) it prints SKIPPED with the reason and
exits 1: a skip is not a pass.

Usage: systemd_container_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import check, failures, report  # noqa: E402
import nspawn_container  # noqa: E402

SOCKET = "/run/pyprofd/pyprofd.sock"
TCP = "127.0.0.1:8700"  # the shipped configuration's
TEST_DIR = "/opt/pyprofd-test"
USER, USER_UID = "alice", 1000
SOCKET_GROUP = "pyprofd-users"
EXTRA_GROUP = "pyprofd-test-extra"  # one more of the user's groups, which its programs keep
COMMAND = {"command": ["python3", TEST_DIR + "/deep.py", "5"], "rate_hz": 200, "duration_s": 60}
MAX_EXPOSURE = 2.5  # systemd-analyze security, the base unit


class Service:
    """pyprofd.service in a booted container, and requests to it."""

    def __init__(self, container):
        self.c = container

    def systemctl(self, *args, timeout=60):
        return self.c.run(["systemctl"] + list(args), timeout=timeout)

    def show(self, *properties):
        out = self.systemctl("show", "pyprofd.service", "-p", ",".join(properties)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self):
        return self.c.run(["journalctl", "-u", "pyprofd.service", "--no-pager", "-o", "cat"]).stdout

    def request(self, method, path, body=None, user=None, via=SOCKET):
        """(status, headers, body): the body parsed when it is JSON; status None and
        the error as body when the socket cannot be reached. via: the unix socket's
        path or tcp:HOST:PORT."""
        argv = ["python3", TEST_DIR + "/unix_socket_client.py", via, method, path]
        if body is not None:
            argv.append(json.dumps(body))
        r = self.c.run(argv, user=user)
        try:
            answer = json.loads(r.stdout)
        except ValueError:
            return None, {}, "client failed: %s %s" % (r.stdout, r.stderr)
        if "error" in answer:
            return None, {}, answer["error"]
        content = answer["body"]
        if answer["headers"].get("Content-Type", "").split(";")[0].endswith("json") and content:
            content = json.loads(content)
        return answer["status"], answer["headers"], content

    def wait_for_state(self, sid, states, timeout=30, user=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, s = self.request("GET", "/sessions/" + sid, user=user)
            if status == 200 and s["state"] in states:
                return s
            time.sleep(0.2)
        return None

    def wait_until(self, condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        return None

    def exposure(self):
        out = self.c.run(["systemd-analyze", "security", "--no-pager", "pyprofd.service"]).stdout
        m = re.search(r"Overall exposure level for pyprofd.service: ([0-9.]+) (\w+)", out)
        return (float(m.group(1)), m.group(2)) if m else (None, out[-300:])

    def is_running(self):
        s = self.show("ActiveState", "SubState")
        return s.get("ActiveState") == "active" and s.get("SubState") == "running"


def brief(status, body):
    """A response in a few words, for check lines."""
    if isinstance(body, dict):
        return "%s %s" % (status, body.get("detail") or body.get("id") or body.get("state") or "")
    return "%s %s" % (status, str(body)[:150])


def flame_graph_ok(service, sid, what, user=None):
    status, headers, svg = service.request("GET", "/sessions/%s/flame.svg" % sid, user=user)
    return check(status == 200 and headers.get("Content-Type", "").startswith("image/svg+xml") and
                 "leaf" in svg and "deep.py" in svg,
                 "%s: its flame.svg has the target's frames (%s)" % (what, brief(status, "" if status == 200 else svg)))


def process_status(c, pid):
    """{"Uid": [...], ...} of a process in the container, or None once it is gone."""
    r = c.run(["cat", "/proc/%d/status" % pid])
    if r.returncode != 0:
        return None
    return {k: v.split() for k, v in (line.split(":", 1) for line in r.stdout.splitlines() if ":" in line)}


def open_files_limit(c, pid):
    """[soft, hard] of a process's descriptor limit in the container, as /proc says."""
    for line in c.run(["cat", "/proc/%d/limits" % pid]).stdout.splitlines():
        if line.startswith("Max open files"):
            return line.split()[3:5]
    return None


def set_up(c, build_dir, source_dir):
    """Installs pyprofd and the test's files, adds the user, starts two targets.
    Returns what later steps need."""
    started = time.monotonic()
    install = subprocess.run(["cmake", "--install", build_dir], env=dict(os.environ, DESTDIR=c.host_path("")),
                             capture_output=True, text=True)
    check(install.returncode == 0, "cmake --install into the container (%.1f s)%s" %
          (time.monotonic() - started, "" if install.returncode == 0 else ": " + install.stderr[-500:]))
    installed = re.search(r"Installing: " + re.escape(c.host_path("")) + r"(/\S*/systemd/system/pyprofd\.service)\n",
                          install.stdout).group(1)
    with open(c.host_path(installed)) as f:
        unit = f.read()
    binary, config = re.search(r"^ExecStart=(\S+) serve --config (\S+)", unit, re.M).groups()
    docdir = re.search(r"^Documentation=.* file://(\S+)/README.md", unit, re.M).group(1)
    ldd = c.run(["ldd", binary]).stdout
    check("not found" not in ldd, "everything %s links against is in the container root%s" %
          (binary, "" if "not found" not in ldd else ": " + ldd))

    os.makedirs(c.host_path(TEST_DIR), mode=0o755)
    for source in (os.path.join(source_dir, "tests/targets/deep.py"),
                   os.path.join(source_dir, "tests/targets/parked_threads.py"),
                   os.path.join(source_dir, "tests/daemon/unix_socket_client.py")):
        destination = c.host_path(TEST_DIR + "/" + os.path.basename(source))
        shutil.copyfile(source, destination)
        os.chmod(destination, 0o644)
    c.run(["useradd", "--create-home", "--uid", str(USER_UID), "--user-group", USER])
    c.run(["groupadd", SOCKET_GROUP])
    # Test timing: a watchdog that bites in 3 s rather than 30, a start that fails in
    # 20 s rather than 90, and no limit on how often the test restarts the unit.
    os.makedirs(c.host_path("/etc/systemd/system/pyprofd.service.d"))
    with open(c.host_path("/etc/systemd/system/pyprofd.service.d/test-timing.conf"), "w") as f:
        f.write("[Unit]\nStartLimitIntervalSec=0\n[Service]\nWatchdogSec=3s\nTimeoutStartSec=20s\n")
    if not installed.startswith(("/usr/lib/", "/usr/local/lib/", "/etc/", "/lib/")):
        c.run(["systemctl", "link", installed])  # a prefix systemd does not read
    c.run(["systemctl", "daemon-reload"])

    targets = {}
    for name, user in (("root", None), ("user", USER)):
        # They spin: at the lowest priority, not to slow the tests that run beside.
        argv = ["systemd-run", "--quiet", "--unit", "deep-" + name, "--nice=19"]
        if user:
            argv += ["--uid", user]
        c.run(argv + ["python3", TEST_DIR + "/deep.py", "5"])
        targets[name] = int(c.run(["systemctl", "show", "-p", "MainPID", "--value", "deep-" + name]).stdout)
    c.run(["systemd-run", "--quiet", "--unit", "parked-root", "python3", TEST_DIR + "/parked_threads.py", "20"])
    targets["parked"] = int(c.run(["systemctl", "show", "-p", "MainPID", "--value", "parked-root"]).stdout)
    check(all(targets.values()), "targets running in the container: root's %(root)d, %(user)d of " % targets + USER +
          ", and %(parked)d with 20 parked threads" % targets)
    return {"config": config, "docdir": docdir, "targets": targets}


def start(service, c):
    started = time.monotonic()
    r = service.systemctl("start", "pyprofd.service", timeout=60)
    took = time.monotonic() - started
    s = service.show("ActiveState", "SubState", "StatusText", "MainPID")
    check(r.returncode == 0 and s["ActiveState"] == "active" and s["SubState"] == "running",
          "systemctl start pyprofd: active (running) in %.1f s%s" % (took, "" if r.returncode == 0 else ": " + r.stderr.strip()))
    # Type=notify: only READY=1 ends the start; its STATUS= shows in StatusText.
    check(s["StatusText"].startswith("listening on") and "unix:" + SOCKET in s["StatusText"],
          "through sd_notify READY=1: StatusText=%r" % s["StatusText"])
    return int(s["MainPID"] or 0)


def check_unit_in_force(service, c, main_pid):
    level, rating = service.exposure()
    print("     systemd-analyze security, the unit as loaded: %s %s" % (level, rating))
    check(level is not None and level <= MAX_EXPOSURE,
          "systemd-analyze security rates the unit %s %s (%.1f or better wanted)" % (level, rating, MAX_EXPOSURE))
    check("does not support BPF/cgroup firewalling" not in c.run(["journalctl", "--no-pager", "-o", "cat"]).stdout,
          "systemd applies the unit's IP firewall (IPAddressDeny=any, IPAddressAllow=localhost)")
    mounts = c.run(["cat", "/proc/%d/mountinfo" % main_pid]).stdout
    proc = [line for line in mounts.splitlines() if line.split()[4] == "/proc"]
    options = proc[-1].split(" - ")[-1] if proc else "no /proc"
    check(("hidepid=ptraceable" in options or "hidepid=4" in options) and "subset=pid" in options,
          "the daemon's /proc is ProtectProc=ptraceable, ProcSubset=pid: %s" % options)
    mode = os.stat(c.host_path(SOCKET)).st_mode & 0o777
    check(mode == 0o666, "the unix socket's mode is %o (666: every caller is identified per request)" % mode)


def profile_as_root(service, targets):
    status, _, s = service.request("POST", "/sessions", {"pid": targets["root"], "rate_hz": 200, "duration_s": 2})
    check(status == 201, "root: a session on root's Python process (%s)" % brief(status, s))
    if status != 201:
        return None
    done = service.wait_for_state(s["id"], ["completed", "failed", "target_exited"])
    check(done and done["state"] == "completed" and done["samples"] > 0,
          "root: it completes with samples (%s)" % str(done and (done["state"], done["samples"], done.get("failure"))))
    flame_graph_ok(service, s["id"], "root's session")
    return s["id"]


def sched_in_watches(service, c, targets, main_pid):
    """Parked threads are watched for being put on a CPU (sampler/sched_in_watch.hpp)
    under the unit's sandbox too: perf events allowed by its capabilities and system
    call filter, their pages by its locked-memory limit."""
    status, _, s = service.request("POST", "/sessions", {"pid": targets["parked"], "rate_hz": 200, "duration_s": 3,
                                                         "idle": True})
    check(status == 201, "a session on 20 parked threads (%s)" % brief(status, s))
    if status != 201:
        return
    time.sleep(1.5)  # a thread gets its watch after 16 reuses in a row
    fds = c.run(["ls", "-l", "/proc/%d/fd" % main_pid]).stdout
    watches = fds.count("anon_inode:[perf_event]")
    check(watches >= 20, "the daemon watches the parked threads with perf events: %d" % watches)
    done = service.wait_for_state(s["id"], ["completed", "failed", "target_exited"])
    check(done and done["state"] == "completed" and done["errors"]["thread_errors"] == 0 and
          all(t["samples"] == done["samples"] for t in done["threads_seen"]),
          "and samples every thread in every sample (%s)" % str(done and (done["state"], done["samples"],
                                                                           done["errors"])))


def command_refused_by_default(service, c):
    for who in (None, USER):
        status, headers, s = service.request("POST", "/sessions", COMMAND, user=who)
        detail = s.get("detail", "") if isinstance(s, dict) else ""
        check(status == 403 and headers.get("Content-Type", "").startswith("application/problem+json") and
              "targets.allow_commands" in detail and "allow-commands.conf" in detail,
              "the shipped config and unit: %s's command session is refused, saying how to allow it (%s %r)" %
              (who or "root", status, detail))


def other_user_refused(service, c, targets, root_session):
    status, _, s = service.request("POST", "/sessions", {"pid": targets["root"], "rate_hz": 200, "duration_s": 2},
                                   user=USER)
    detail = s.get("detail", "") if isinstance(s, dict) else ""
    check(status == 403 and "uid 0" in detail and USER in detail,
          "%s's request for root's process: 403, saying why (%r)" % (USER, detail))
    # On loopback TCP the caller is the owner of the client's socket, which pyprofd
    # asks the kernel for (sock_diag: the unit's AF_NETLINK; ProcSubset=pid hides
    # /proc/net/tcp, the other way).
    status, _, s = service.request("POST", "/sessions", {"pid": targets["root"], "rate_hz": 200, "duration_s": 2},
                                   user=USER, via="tcp:" + TCP)
    detail = s.get("detail", "") if isinstance(s, dict) else ""
    check(status == 403 and "uid 0" in detail and "uid %d" % USER_UID in detail,
          "the same over loopback TCP: 403, the caller known as uid %d (%r)" % (USER_UID, detail))
    status, _, s = service.request("POST", "/sessions", {"pid": targets["user"], "rate_hz": 200, "duration_s": 2},
                                   user=USER)
    check(status == 201, "%s profiles its own process (%s)" % (USER, brief(status, s)))
    if status == 201:
        done = service.wait_for_state(s["id"], ["completed", "failed", "target_exited"], user=USER)
        check(done and done["state"] == "completed", "%s's session completes (%s)" % (USER, done and done["state"]))
        flame_graph_ok(service, s["id"], USER + "'s session", user=USER)
    if root_session:
        status, _, _ = service.request("GET", "/sessions/" + root_session, user=USER)
        check(status == 404, "%s gets 404 for root's session (%s)" % (USER, status))


def socket_group(service, c, config):
    """unix_socket_group: the daemon gives its socket to the group (CAP_CHOWN and
    the chown call), and the group's members may use it."""
    with open(c.host_path(config)) as f:
        original = f.read()
    with open(c.host_path(config), "w") as f:
        f.write(original + "\nunix_socket_group: %s\n" % SOCKET_GROUP)
    c.run(["usermod", "--append", "--groups", SOCKET_GROUP, USER])
    r = service.systemctl("restart", "pyprofd.service")
    st = os.stat(c.host_path(SOCKET)) if os.path.exists(c.host_path(SOCKET)) else None
    entry = c.run(["getent", "group", SOCKET_GROUP]).stdout.split(":")
    gid = int(entry[2]) if len(entry) > 2 else None
    check(r.returncode == 0 and st is not None and st.st_gid == gid and st.st_mode & 0o777 == 0o660,
          "unix_socket_group: %s: the service starts and the socket is the group's, mode 0660 (%s)" %
          (SOCKET_GROUP, "gid %d, mode %o" % (st.st_gid, st.st_mode & 0o777) if st else
           "no socket: " + service.journal()[-300:]))
    status, _, _ = service.request("GET", "/healthz", user=USER)
    check(status == 200, "%s, in %s, reaches the daemon (%s)" % (USER, SOCKET_GROUP, status))
    with open(c.host_path(config), "w") as f:
        f.write(original)
    c.run(["gpasswd", "--delete", USER, SOCKET_GROUP])
    service.systemctl("restart", "pyprofd.service")


def watchdog(service, c, targets, finished):
    status, _, running = service.request("POST", "/sessions", {"pid": targets["root"], "rate_hz": 200, "duration_s": 60})
    check(status == 201, "a session running when the daemon hangs (%s)" % status)
    before = service.show("MainPID", "NRestarts")
    time.sleep(0.5)
    started = time.monotonic()
    service.systemctl("kill", "--signal=SIGSTOP", "pyprofd.service")
    restarted = service.wait_until(lambda: service.is_running() and
                                   service.show("NRestarts")["NRestarts"] != before["NRestarts"] and
                                   service.show("MainPID")["MainPID"] not in ("0", before["MainPID"]), 40)
    took = time.monotonic() - started
    check(restarted and "Watchdog timeout" in service.journal(),
          "systemctl kill -s SIGSTOP: the watchdog (3 s in this test) restarts it, in %.1f s" % took)
    if finished:
        status, _, s = service.request("GET", "/sessions/" + finished)
        check(status == 200 and s["state"] == "completed", "after the restart, a finished session is served (%s %s)" %
              (status, s.get("state") if isinstance(s, dict) else s))
        flame_graph_ok(service, finished, "after the restart, the finished session")
    if isinstance(running, dict) and "id" in running:
        status, _, s = service.request("GET", "/sessions/" + running["id"])
        check(status == 200 and s["state"] == "interrupted",
              "the session that was running comes back interrupted (%s)" % (s.get("state") if isinstance(s, dict) else s))


def stop(service, c, targets):
    status, _, s = service.request("POST", "/sessions", {"pid": targets["root"], "rate_hz": 200, "duration_s": 60})
    check(status == 201, "a session running when the service stops (%s)" % status)
    if status != 201:
        return
    sid = s["id"]
    service.wait_until(lambda: service.request("GET", "/sessions/" + sid)[2].get("samples", 0) > 0, 10)
    started = time.monotonic()
    r = service.systemctl("stop", "pyprofd.service")
    took = time.monotonic() - started
    shown = service.show("ActiveState", "Result", "ExecMainStatus")
    check(r.returncode == 0 and shown == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"},
          "systemctl stop: it exits 0 in %.1f s (%s)" % (took, shown))
    try:
        with open(c.host_path("/var/lib/pyprofd/sessions/%s.json" % sid)) as f:
            saved = json.load(f)
        folded = os.path.getsize(c.host_path("/var/lib/pyprofd/sessions/%s.folded" % sid))
    except (OSError, ValueError) as e:
        saved, folded = {"error": str(e)}, 0
    check(saved.get("state") == "stopped" and saved.get("samples", 0) > 0 and folded > 0,
          "the running session ended stopped and is saved: %s, %d samples, %d bytes of stacks" %
          (saved.get("state", saved), saved.get("samples", 0), folded))
    service.systemctl("start", "pyprofd.service")
    status, _, s = service.request("GET", "/sessions/" + sid)
    check(status == 200 and s["state"] == "stopped", "started again, it serves it, stopped (%s %s)" %
          (status, s.get("state") if isinstance(s, dict) else s))


def commands_allowed(service, c, setup):
    """targets.allow_commands on: without the drop-in the unit cannot launch a
    program as its user; with it, as installed with the docs, the user's program
    runs as that user, is profiled, and ends with its session."""
    with open(c.host_path(setup["config"])) as f:
        text = f.read()
    turned_on = re.sub(r"^(\s*)allow_commands: false\b", r"\1allow_commands: true", text, count=1, flags=re.M)
    check(turned_on != text, "the shipped config says targets.allow_commands: false (turned on here)")
    with open(c.host_path(setup["config"]), "w") as f:
        f.write(turned_on)
    c.run(["groupadd", EXTRA_GROUP])
    c.run(["usermod", "--append", "--groups", EXTRA_GROUP, USER])
    extra_gid = c.run(["getent", "group", EXTRA_GROUP]).stdout.split(":")[2]
    service.systemctl("restart", "pyprofd.service")
    status, _, s = service.request("POST", "/sessions", COMMAND, user=USER)
    ended = status == 201 and service.wait_for_state(s["id"], ["failed", "completed", "stopped", "target_exited"],
                                                     user=USER)
    check(ended and ended["state"] == "failed" and "Operation not permitted" in ended.get("failure", ""),
          "allow_commands without the drop-in: the unit cannot start a program as %s (%s)" %
          (USER, str(ended and ended.get("failure") or brief(status, s))))

    installed = setup["docdir"] + "/allow-commands.conf"
    r = c.run(["cp", installed, "/etc/systemd/system/pyprofd.service.d/allow-commands.conf"])
    check(r.returncode == 0, "the drop-in is installed with the docs: %s%s" % (installed, r.stderr))
    service.systemctl("daemon-reload")
    r = service.systemctl("restart", "pyprofd.service")
    check(r.returncode == 0 and service.is_running(), "restarted with allow-commands.conf (%s)" % r.stderr.strip())
    caps = service.show("CapabilityBoundingSet")["CapabilityBoundingSet"].split()
    check(sorted(caps) == sorted(["cap_chown", "cap_dac_read_search", "cap_sys_ptrace", "cap_perfmon", "cap_kill",
                                  "cap_setgid", "cap_setuid"]),
          "the drop-in adds CAP_KILL, CAP_SETGID, CAP_SETUID: %s" % caps)
    level, rating = service.exposure()
    print("     systemd-analyze security, the unit with allow-commands.conf: %s %s" % (level, rating))

    caller = USER
    status, _, s = service.request("POST", "/sessions", COMMAND, user=caller)
    check(status == 201, "%s starts a command session (%s)" % (caller, brief(status, s)))
    if status != 201:
        return
    sid = s["id"]
    s = service.wait_until(lambda: (lambda x: x if x.get("state") != "running" or x.get("samples", 0) > 0 else None)(
        service.request("GET", "/sessions/" + sid, user=caller)[2]), 20)
    pid = s and s.get("target", {}).get("pid")
    check(s and s["state"] == "running" and pid, "the program runs and is sampled (%s)" %
          str(s and (s["state"], s.get("samples"), s.get("failure"))))
    if not pid:
        return
    status = process_status(c, pid) or {}
    environment = c.run(["cat", "/proc/%d/environ" % pid]).stdout.split("\0")
    check(status.get("Uid") == [str(USER_UID)] * 4 and status.get("Gid") == [str(USER_UID)] * 4 and
          extra_gid in status.get("Groups", []) and "HOME=/home/" + USER in environment and "USER=" + USER in environment,
          "it runs as %s: Uid %s, Gid %s, Groups %s (with %s, %s), its HOME and USER" %
          (USER, status.get("Uid"), status.get("Gid"), status.get("Groups"), EXTRA_GROUP, extra_gid))
    daemon_pid = int(service.show("MainPID")["MainPID"] or 0)
    limits = {who: open_files_limit(c, p) for who, p in (("program", pid), ("daemon", daemon_pid))}
    # (The hard limit is the container's where that is lower than the unit's 65536.)
    program, daemon = limits["program"] or [None, None], limits["daemon"] or [None, None]
    check(program[0] == "1024" and program[1] == daemon[0] == daemon[1] and daemon[1] is not None,
          "LimitNOFILE=1024:65536: the daemon raised its soft limit to the hard one, the program has the usual "
          "soft one (%s)" % limits)
    flame_graph_ok(service, sid, "the launched program's session", user=caller)
    status, _, s = service.request("POST", "/sessions/%s/stop" % sid, user=caller)
    ended = service.wait_for_state(sid, ["stopped", "completed", "failed", "target_exited"], user=caller)
    check(status == 200 and ended and ended["state"] == "stopped", "stopping the session (%s, %s)" %
          (status, ended and ended["state"]))
    gone = service.wait_until(lambda: process_status(c, pid) is None, 10)
    check(gone, "the program (uid %d) ends with its session: pyprofd may signal it (CAP_KILL)" % USER_UID)


def main():
    build_dir, source_dir = (os.path.abspath(a) for a in sys.argv[1:3])
    if os.geteuid() != 0:
        print("SKIPPED: booting a container needs root")
        return 1
    for tool, package in (("systemd-nspawn", "systemd-container"), ("debootstrap", "debootstrap"), ("unshare", "util-linux")):
        if not shutil.which(tool):
            print("SKIPPED: %s is missing (Debian's %s; `make test-deps` installs it)" % (tool, package))
            return 1
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("SKIPPED: no mount namespaces here (unshare --mount: %s)" % probe.stderr.strip())
        return 1

    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        # nspawn copies it into the container, and refuses to boot without it.
        check(False, "the host's /dev/null is the null device, not a %s: something replaced it (a test writing "
              "its output there?); restore it with: rm /dev/null && mknod -m 666 /dev/null c 1 3" %
              ("regular file" if stat.S_ISREG(os.stat("/dev/null").st_mode) else "non-device"))
        return report()
    started = time.monotonic()
    work = os.path.join(build_dir, "systemd-root")
    try:
        root, made_in = nspawn_container.cached_root(work, os.path.join(work, "debootstrap.log"))
    except nspawn_container.Unavailable as e:
        print("SKIPPED: cannot make the container root: %s" % e)
        return 1
    print("     container root %s: %s" % (root, "made in %.0f s" % made_in if made_in else "cached"))
    name = "pyprofd-container-test-%d" % os.getpid()
    log = os.path.join(work, "nspawn.log")
    try:
        with nspawn_container.Container(root, name, log) as c:
            booted = time.monotonic()
            print("     booted in %.1f s" % (booted - started - made_in))
            service = Service(c)
            steps = [("set up", lambda: setup.update(set_up(c, build_dir, source_dir)))]
            setup = {}
            finished = []
            steps += [
                ("start", lambda: setup.update(main_pid=start(service, c))),
                ("the unit in force", lambda: check_unit_in_force(service, c, setup["main_pid"])),
                ("root's session", lambda: finished.append(profile_as_root(service, setup["targets"]))),
                ("sched-in watches", lambda: sched_in_watches(service, c, setup["targets"], setup["main_pid"])),
                ("commands refused", lambda: command_refused_by_default(service, c)),
                ("another user", lambda: other_user_refused(service, c, setup["targets"], (finished + [None])[0])),
                ("socket group", lambda: socket_group(service, c, setup["config"])),
                ("watchdog", lambda: watchdog(service, c, setup["targets"], (finished + [None])[0])),
                ("stop", lambda: stop(service, c, setup["targets"])),
                ("commands allowed", lambda: commands_allowed(service, c, setup)),
            ]
            for what, step in steps:
                try:
                    step()
                except Exception as e:  # one broken step must not hide the others' results
                    check(False, "%s: %s: %s" % (what, type(e).__name__, e))
            if failures:
                print("     the daemon's journal:\n" + service.journal()[-3000:])
    except nspawn_container.Unavailable as e:
        print("SKIPPED: %s" % e)
        return 1
    check(c.ended_cleanly, "the container is shut down and the cgroups made for it removed")
    print("     took %.1f s (%s)" % (time.monotonic() - started, "root made" if made_in else "root cached"))
    return report()


if __name__ == "__main__":
    sys.exit(main())
