#!/usr/bin/env python3
"""The daemon on Pythons in containers, by their host PIDs: GET /processes/PID/stacks
and a session, on a Python in its own PID and mount namespaces (unshare, /proc
mounted inside), and on one chrooted into the Debian sid root as well. Threads
carry the host's TIDs (tasks of the process) and the TIDs the container sees
(NSpid); the idle thread is told from the busy one (activity read through the host
TID); every response is checked against openapi.yaml.

Usage: container_daemon_test.py PYPROFD_BINARY SOURCE_DIR
Environment: PYPROFD_SID_ROOT (default /var/cache/pyprofd/sid-root) and
PYPROFD_SID_PYTHONS (default "python3.14 python3.15"); CI set: a missing sid root,
Python in it, or one this build cannot read fails instead of being skipped.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
import daemon_support  # noqa: E402
from api_contract import CheckedDaemon, Contract  # noqa: E402
from daemon_support import PYTHON, check, folded_stacks, report, wait_for_state  # noqa: E402

CONTRACT = Contract(os.path.join(SOURCE, "openapi.yaml"))
TARGET = os.path.join(SOURCE, "tests/targets/busy_and_idle.py")
IN_CI = bool(os.environ.get("CI"))


class Daemon(CheckedDaemon):
    """The daemon, every response it gives checked against the contract."""
    contract = CONTRACT


def skip_or_fail(what):
    """Locally a missing piece is skipped, and said so; in CI it fails."""
    if IN_CI:
        check(False, "MISSING in CI: " + what)
    else:
        print("SKIPPED " + what, flush=True)


class ContainedPython:
    """A Python started by unshare(1) in new PID and mount namespaces with /proc
    mounted inside (and chrooted into root, where given): PID 1 in there. unshare
    kills it when it dies itself (--kill-child)."""

    def __init__(self, python, args, root=None):
        command = ["unshare", "--pid", "--mount", "--fork", "--kill-child"]
        if root:
            command.append("--root=" + root)
        command += ["--mount-proc", python] + list(args)
        self.unshare = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self.ready = self.unshare.stdout.readline().strip() == "READY"
        with open("/proc/%d/task/%d/children" % (self.unshare.pid, self.unshare.pid)) as f:
            children = f.read().split()
        self.pid = int(children[0]) if children else None

    def end(self):
        self.unshare.kill()  # and --kill-child ends the Python
        self.unshare.wait()


def namespace_tids(pid):
    """{host TID: the TID in the innermost PID namespace} of every task of pid (NSpid)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("NSpid:"):
                    out[int(tid)] = int(line.split()[-1])
    return out


def check_container(daemon, what, python, script, root=None, script_in_root=None):
    target = ContainedPython(python, [script_in_root or script], root)
    try:
        if not check(target.ready and target.pid, "%s: the target runs (host PID %s)" % (what, target.pid)):
            return
        host = target.pid
        # Right after READY the main thread may not be in spin() yet: ask again a while.
        deadline = time.time() + 10
        while True:
            status, _, stacks = daemon.request("GET", "/processes/%d/stacks" % host)
            spinning = status == 200 and any(t["name"] == "MainThread" and t["frames"] and t["frames"][0]["function"] == "spin"
                                             for t in stacks["threads"])
            if spinning or status != 200 or time.time() > deadline:
                break
            time.sleep(0.1)
        if status == 422 and "cannot read" in json.dumps(stacks):
            return skip_or_fail("%s: this build of pyprofd cannot read it: %s" % (what, stacks.get("detail")))
        if not check(status == 200, "%s: GET /processes/%d/stacks answers 200 (%s)" % (what, host, status)):
            return
        tasks = namespace_tids(host)
        check(stacks["pid"] == host and stacks["namespace_pid"] == 1,
              "%s: the stacks are of host PID %d, PID 1 in its namespace" % (what, host))
        by_name = {t["name"]: t for t in stacks["threads"]}
        check(set(by_name) == {"MainThread", "sleeper"}, "%s: both threads, by name: %s" % (what, sorted(by_name)))
        check(all(t["native_id"] in tasks and t["namespace_tid"] == tasks[t["native_id"]] for t in stacks["threads"]),
              "%s: each thread with its host TID and the TID the container sees (%s; NSpid: %s)" %
              (what, [(t["native_id"], t["namespace_tid"]) for t in stacks["threads"]], tasks))
        main = by_name.get("MainThread", {})
        check(main.get("native_id") == host and main.get("namespace_tid") == 1,
              "%s: the main thread is the host PID's task, TID 1 inside" % what)
        check(any(f["function"] == "spin" for f in main.get("frames", [])), "%s: the main thread spins" % what)
        if root:
            check(stacks["executable"].startswith("/usr/bin/python3") and stacks["python"]["binary"].startswith("/usr/")
                  and root not in stacks["python"]["binary"],
                  "%s: paths as the process sees them (%s, %s)" % (what, stacks["executable"], stacks["python"]["binary"]))

        status, _, session = daemon.request("POST", "/sessions", {"pid": host, "rate_hz": 200, "duration_s": 1.5,
                                                                   "idle": True, "threads": True})
        if not check(status == 201, "%s: a session on host PID %d starts (%s %s)" % (what, host, status, session)):
            return
        done = wait_for_state(daemon, session["id"], {"completed", "stopped", "target_exited", "failed"}, 30)
        check(done and done["state"] == "completed" and done["samples"] > 100,
              "%s: the session completes with samples (%s)" % (what, done and (done["state"], done["samples"])))
        seen = {t["name"]: t for t in (done or {}).get("threads_seen", [])}
        check(set(seen) == {"MainThread", "sleeper"} and
              all(t["tid"] in tasks and t["namespace_tid"] == tasks[t["tid"]] for t in seen.values()),
              "%s: threads_seen lists both threads, host and container TIDs (%s)" % (what, list(seen.values())))
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % session["id"], raw=True)
        stacks_by_root = {}
        for line in folded_stacks(folded.decode()):
            stack, count = line.rsplit(" ", 1)
            root_frame = stack.split(";")[0]
            stacks_by_root.setdefault(root_frame, []).append((stack, int(count)))
        busy = sum(c for s, c in stacks_by_root.get('thread "MainThread" (%d)' % host, []) if ";spin (" in s
                   and not s.endswith(";<idle>"))
        sleeper_root = [r for r in stacks_by_root if r.startswith('thread "sleeper" (')]
        sleeping = sum(c for r in sleeper_root for s, c in stacks_by_root[r] if s.endswith(";<idle>"))
        sleeper_total = sum(c for r in sleeper_root for s, c in stacks_by_root[r])
        check(busy > 100, "%s: the main thread's root has its host TID, spinning, not idle (%d samples)" % (what, busy))
        check(sleeper_total > 100 and sleeping >= sleeper_total * 9 // 10,
              "%s: the sleeper is idle (%d of %d samples)" % (what, sleeping, sleeper_total))
    finally:
        target.end()


def sid_root_cases(daemon):
    root = os.environ.get("PYPROFD_SID_ROOT") or "/var/cache/pyprofd/sid-root"
    if not os.path.isdir(os.path.join(root, "usr/bin")):
        return skip_or_fail("the Debian sid root %s (scripts/make-sid-root makes it; PYPROFD_SID_ROOT names another)" % root)
    pythons = (os.environ.get("PYPROFD_SID_PYTHONS") or "python3.14 python3.15").split()
    work = tempfile.mkdtemp(prefix="pyprofd-container-test-", dir=os.path.join(root, "tmp"))
    try:
        os.chmod(work, 0o755)
        shutil.copy(TARGET, work)
        inside = "/tmp/%s/%s" % (os.path.basename(work), os.path.basename(TARGET))
        for python in pythons:
            executable = "/usr/bin/" + python
            if not os.path.exists(root + executable):
                skip_or_fail("%s: no %s in %s" % (python, executable, root))
                continue
            check_container(daemon, "sid root %s (chroot)" % python, executable, TARGET, root, inside)
    finally:
        shutil.rmtree(work, True)


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-container-daemon-")
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    try:
        check_container(daemon, "unshare %s" % PYTHON, PYTHON, TARGET)
        sid_root_cases(daemon)
    finally:
        daemon.stop()
        shutil.rmtree(work, True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
