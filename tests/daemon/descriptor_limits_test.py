#!/usr/bin/env python3
"""Descriptors, with a real daemon under a low descriptor limit:
- at start it raises its soft limit to the hard one, and caps its connections to
  what the limit leaves room for, saying so;
- 400 idle connections (more than the cap, and than the limit allows) neither make
  it spin nor fill its log: the excess waits in the backlog, the log stays small,
  and once the idle ones go, /healthz answers at once;
- a finished session on a 160-thread target releases what it attached (a pidfd, a
  descriptor per thread) at once, not when it is deleted.

Usage: descriptor_limits_test.py PYPROFD_BINARY SOURCE_DIR
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, readable_copy, report, wait_for_state  # noqa: E402

PARKED = readable_copy(os.path.join(SOURCE, "tests", "targets", "parked_threads.py"))


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def soft_and_hard_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return [int(x) for x in line.split()[3:5]]
    return None


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-descriptors-")
    config = os.path.join(work, "c.yaml")
    with open(config, "w") as f:
        f.write("limits: {max_connections: 1000}\n")
    daemon = Daemon(PYPROFD, ["--config", config, "--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"), prefix=["prlimit", "--nofile=128:256", "--"])
    target = subprocess.Popen([PYTHON, PARKED, "159"], stdout=subprocess.PIPE, user=65534, group=65534,
                              extra_groups=[], cwd="/")
    target.stdout.readline()
    idle = []
    try:
        check(soft_and_hard_nofile(daemon.process.pid) == [256, 256], "the soft descriptor limit is raised to the hard one")
        check("limits.max_connections is 1000, but with 256 descriptors at most 96 connections" in daemon.log(),
              "the connections are capped to what the limit leaves room for, and it says so")

        baseline = open_descriptors(daemon.process.pid)
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 1, "idle": True})
        check(status == 201, "a session on a 160-thread target")
        time.sleep(0.5)
        during = open_descriptors(daemon.process.pid)
        done = wait_for_state(daemon, s["id"], {"completed"})
        time.sleep(0.2)
        after = open_descriptors(daemon.process.pid)
        check(done is not None and during >= baseline + 150 and after <= baseline + 2,
              "its descriptors: %d before, %d while it runs, %d once it ended" % (baseline, during, after))

        log_before = os.path.getsize(daemon.log_path)
        cpu_before = cpu_seconds(daemon.process.pid)
        for _ in range(400):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", daemon.port))
            except BlockingIOError:
                pass
            idle.append(c)
        time.sleep(6)
        grown = os.path.getsize(daemon.log_path) - log_before
        cpu = cpu_seconds(daemon.process.pid) - cpu_before
        check(daemon.process.poll() is None, "400 idle connections: the daemon lives")
        check(grown < 4096, "its log grew by %d bytes in 6 s, not millions of lines" % grown)
        check(cpu < 1.0, "it does not spin: %.2f s of CPU in 6 s" % cpu)
        for c in idle:
            c.close()
        idle = []
        time.sleep(0.3)
        began = time.monotonic()
        status, _, _ = daemon.request("GET", "/healthz")
        took = time.monotonic() - began
        check(status == 200 and took < 2, "once they go, /healthz answers (%.2f s)" % took)

        # Out of descriptors for real: a session holds one per thread of a big target
        # while idle connections take the rest. Accepting fails, backs off, and says
        # so once in a while.
        big = subprocess.Popen([PYTHON, PARKED, "230"], stdout=subprocess.PIPE, user=65534, group=65534,
                               extra_groups=[], cwd="/")
        big.stdout.readline()
        try:
            status, _, s = daemon.request("POST", "/sessions", {"pid": big.pid, "rate_hz": 20, "duration_s": 30, "idle": True})
            for _ in range(200):  # until the session holds a descriptor per thread (slower under ASan)
                if open_descriptors(daemon.process.pid) >= 230:
                    break
                time.sleep(0.05)
            log_before = os.path.getsize(daemon.log_path)
            cpu_before = cpu_seconds(daemon.process.pid)
            for _ in range(150):
                c = socket.socket()
                c.setblocking(False)
                try:
                    c.connect(("127.0.0.1", daemon.port))
                except BlockingIOError:
                    pass
                idle.append(c)
            time.sleep(5)
            grown = os.path.getsize(daemon.log_path) - log_before
            cpu = cpu_seconds(daemon.process.pid) - cpu_before
            log = daemon.log()
            check("Too many open files; accepting again in" in log, "at the descriptor limit, accepting backs off and says so")
            check(grown < 8192 and cpu < 2.5,
                  "without flooding the log (%d bytes in 5 s) or spinning (%.2f s of CPU)" % (grown, cpu))
            for c in idle:
                c.close()
            idle = []
            time.sleep(1.5)
            status, _, _ = daemon.request("POST", "/sessions/%s/stop" % s["id"])
            check(status == 200, "and serves again once descriptors are free")
        finally:
            big.kill()
            big.wait()
    finally:
        for c in idle:
            c.close()
        daemon.stop()
        target.kill()
        target.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
