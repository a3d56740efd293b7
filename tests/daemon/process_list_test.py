#!/usr/bin/env python3
"""GET /processes with a real daemon and real callers: the Python processes a caller
may profile, found without attaching to any.

- A Python target appears with its pid, exact version, threads, command line (bytes that
  are not UTF-8 as U+FFFD), user, executable and start; sorted by pid; every answer
  follows openapi.yaml.
- Processes that are not Python (sleep, the daemon itself) are not listed.
- A user (nobody) sees only its own dumpable processes, never root's; another user (bin)
  does not see nobody's; root and a member of access.admin_group see them all.
- A Python in its own PID namespace (unshare --pid --fork --mount-proc) is listed as in
  a container; one chrooted into the Debian sid root is listed with its version, where
  scripts/make-sid-root made that root (else said skipped).
- A daemon in a mount namespace of its own (as systemd's PrivateMounts gives it) does
  not take the host's processes for a container's, where it may read init's namespace.

Usage: process_list_test.py PYPROFD_BINARY SOURCE_DIR
"""
import calendar
import json
import os
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, report  # noqa: E402
import daemon_support  # noqa: E402
from api_contract import Contract  # noqa: E402

CONTRACT = Contract(os.path.join(SOURCE, "openapi.yaml"))
NOBODY, BIN, DAEMON_USER = 65534, 2, 1  # DAEMON_USER's group, "daemon", is the admin group here
SID_ROOT = os.environ.get("PYPROFD_SID_ROOT", "/var/cache/pyprofd/sid-root")

# Two parked threads besides the main one; READY once they run.
PARKED = """import sys, threading, time
def park():
    time.sleep(600)
for _ in range(2):
    t = threading.Thread(target=park)
    t.daemon = True
    t.start()
sys.stdout.write('READY\\n')
sys.stdout.flush()
time.sleep(600)
"""
UNDUMPABLE = "import ctypes, time; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); print('READY', flush=True); time.sleep(600)"


def call(where, path, user=None):
    """GET path as `user`, its answer checked against openapi.yaml."""
    status, headers, content = daemon_support.call(where, "GET", path, user=user)
    raw = json.dumps(content) if isinstance(content, (dict, list)) else content
    CONTRACT.check("GET", path, status, headers.get("Content-Type", ""), raw)
    return status, content


def start(command, user=None):
    """A process that says READY when it is ready, and its pid."""
    kwargs = {"cwd": "/", "stdout": subprocess.PIPE}
    if user is not None:
        kwargs.update(user=user, group=user, extra_groups=[])
    p = subprocess.Popen(command, **kwargs)
    p.stdout.readline()
    return p


def version_of(command):
    return subprocess.run(command + ["-c", "import sys; sys.stdout.write(sys.version.split()[0])"],
                          capture_output=True, text=True, check=True).stdout


def children_of(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(x) for x in f.read().split()]


def by_pid(listing):
    return {p["pid"]: p for p in listing["processes"]}


def iso_seconds(text):
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + int(text[20:23]) / 1000


def check_root_view(tcp, daemon, root_p, root_started, sleeper):
    before = time.time()
    status, _, listing = daemon.request("GET", "/processes")
    print("GET /processes as root, the first: %.1f ms for %d listed" % ((time.time() - before) * 1000, len(listing["processes"])))
    before = time.time()
    status, _, listing = daemon.request("GET", "/processes")
    print("and again: %.1f ms" % ((time.time() - before) * 1000))
    status, listing = call(tcp, "/processes")
    check(status == 200, "root lists the processes: %s" % status)
    pids = [p["pid"] for p in listing["processes"]]
    check(pids == sorted(pids), "sorted by pid")
    found = by_pid(listing).get(root_p.pid)
    if not check(found is not None, "root's Python target is listed"):
        return
    check(found["python_version"] == version_of([PYTHON]),
          "with its exact version: %s (it says %s)" % (found["python_version"], version_of([PYTHON])))
    check(found["threads"] == 3, "its threads: %s" % found["threads"])
    check(found["command_line"] == [PYTHON, "-c", PARKED, "caf\ufffd"],
          "its command line, a byte that is not UTF-8 as U+FFFD: %r" % found["command_line"][3:])
    check(found["user"] == "root" and found["uid"] == 0, "its user")
    check(found["executable"] == os.path.realpath(PYTHON), "its executable: %s" % found["executable"])
    started = iso_seconds(found["started"])
    check(found["started"].endswith("Z") and root_started - 2 <= started <= time.time() + 1,
          "its start, in ISO 8601 UTC: %s" % found["started"])
    check(found["container"] is False and found["pid_namespace"] is False and found["mount_namespace"] is False,
          "not in a container")
    check(sleeper.pid not in pids, "sleep is not listed: it is not Python")
    check(daemon.process.pid not in pids, "nor is the daemon")
    check(listing["skipped"] == 0, "nothing skipped: %s" % listing["skipped"])


def check_user_views(tcp, unix, root_p, nobody_p, undumpable_p):
    for where, name in ((tcp, "loopback"), (unix, "unix socket")):
        status, listing = call(where, "/processes", user=NOBODY)
        listed = by_pid(listing)
        check(status == 200 and nobody_p.pid in listed, "%s: nobody sees its own Python process" % name)
        check(root_p.pid not in listed, "%s: but not root's" % name)
        check(all(p["uid"] == NOBODY and p["user"] == "nobody" for p in listing["processes"]),
              "%s: only nobody's processes: %s" % (name, sorted({p["uid"] for p in listing["processes"]})))
        check(undumpable_p.pid not in listed, "%s: nor its own undumpable one, which it could not profile" % name)
    status, listing = call(tcp, "/processes", user=BIN)
    check(status == 200 and nobody_p.pid not in by_pid(listing) and root_p.pid not in by_pid(listing),
          "bin sees neither nobody's nor root's")
    status, listing = call(tcp, "/processes", user=DAEMON_USER)
    listed = by_pid(listing)
    check(root_p.pid in listed and nobody_p.pid in listed and undumpable_p.pid in listed,
          "a member of access.admin_group sees them all")
    status, listing = call(tcp, "/processes")
    check(nobody_p.pid in by_pid(listing) and by_pid(listing)[nobody_p.pid]["user"] == "nobody",
          "and so does root, with each one's user")


def check_containers(tcp):
    unshared = start(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", PYTHON, "-c", PARKED])
    try:
        inner = children_of(unshared.pid)
        status, listing = call(tcp, "/processes")
        found = by_pid(listing).get(inner[0] if inner else -1)
        check(found is not None and found["pid_namespace"] and found["container"] and
              found["python_version"] == version_of([PYTHON]),
              "a Python in its own PID namespace: pid_namespace and container true: %s" % found)
        check(unshared.pid not in by_pid(listing), "unshare itself is not listed")
    finally:
        unshared.kill()
        unshared.wait()
    python = os.path.join(SID_ROOT, "usr/bin/python3.14")
    if not os.path.exists(python):
        print("skipped: no Debian sid root at %s (scripts/make-sid-root makes it)" % SID_ROOT)
        return
    chrooted = start(["chroot", SID_ROOT, "/usr/bin/python3.14", "-c", PARKED])
    try:
        status, listing = call(tcp, "/processes")
        found = by_pid(listing).get(chrooted.pid)
        wanted = version_of(["chroot", SID_ROOT, "/usr/bin/python3.14"])
        check(found is not None and found["python_version"] == wanted and found["executable"] == "/usr/bin/python3.14",
              "a Python chrooted into the sid root: its version %s and executable as it sees it: %s" % (wanted, found))
    finally:
        chrooted.kill()
        chrooted.wait()


def check_private_mounts(work, root_p):
    try:
        os.readlink("/proc/1/ns/mnt")
    except OSError as e:
        print("skipped: init's mount namespace cannot be read here (%s): the daemon compares with its own" % e)
        return
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state-private")],
                    os.path.join(work, "daemon-private.log"), prefix=["unshare", "--mount", "--propagation", "private"])
    try:
        status, listing = call("127.0.0.1:%d" % daemon.port, "/processes")
        found = by_pid(listing).get(root_p.pid)
        check(found is not None and found["mount_namespace"] is False and found["container"] is False,
              "a daemon with a mount namespace of its own: the host's Python is not in a container: %s" % found)
    finally:
        daemon.stop()


def main():
    for user in (NOBODY, BIN, DAEMON_USER):
        import pwd
        try:
            pwd.getpwuid(user)
        except KeyError:
            print("FAIL this test needs the Debian system user with uid %d" % user)
            return 1
    work = tempfile.mkdtemp(prefix="pyprofd-process-list-test-")
    os.chmod(work, 0o755)
    sock = os.path.join(work, "api.sock")
    config = os.path.join(work, "daemon.yaml")
    with open(config, "w") as f:
        f.write("listen: [\"127.0.0.1:0\", \"unix:%s\"]\naccess: {admin_group: daemon}\n" % sock)
    daemon = Daemon(PYPROFD, ["--config", config, "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    root_started = time.time()
    processes = [start([PYTHON.encode(), b"-c", PARKED.encode(), b"caf\xe9"]),
                 start([PYTHON, "-c", PARKED], NOBODY),
                 start([PYTHON, "-c", UNDUMPABLE], NOBODY),
                 subprocess.Popen(["sleep", "600"])]
    root_p, nobody_p, undumpable_p, sleeper = processes
    tcp, unix = "127.0.0.1:%d" % daemon.port, "unix:" + sock
    try:
        check_root_view(tcp, daemon, root_p, root_started, sleeper)
        check_user_views(tcp, unix, root_p, nobody_p, undumpable_p)
        check_containers(tcp)
        check_private_mounts(work, root_p)
    finally:
        daemon.stop()
        for p in processes:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", work])
    return report()


if __name__ == "__main__":
    sys.exit(main())
