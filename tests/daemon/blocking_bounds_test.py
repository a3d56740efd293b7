#!/usr/bin/env python3
"""Blocking mode against a target it cannot stop: a program run as nobody with a
thread waiting in posix_spawn's vfork for a child that blocks opening a FIFO (no
ptrace interrupt stops such a thread). Each blocking sample waits a bounded time
for the threads to stop, then lets them all run on and skips the sample; after a
run of such samples the session ends `failed`, saying why. Meanwhile the API
answers (/healthz, and stop returns promptly), and afterwards none of the target's
threads is left stopped: it runs on, and its stuck thread finishes once the FIFO
is opened.

Usage: blocking_bounds_test.py PYPROFD_BINARY SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, readable_copy, report, wait_for_state  # noqa: E402

TARGET = readable_copy(os.path.join(SOURCE, "tests", "targets", "stuck_in_vfork.py"))


def thread_states(pid):
    states = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                states[int(tid)] = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
    return states


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def timed(daemon, method, path, body=None):
    began = time.monotonic()
    status, _, answer = daemon.request(method, path, body)
    return status, answer, time.monotonic() - began


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-blocking-bounds-")
    os.chmod(work, 0o755)
    fifo = os.path.join(work, "gate")
    os.mkfifo(fifo, 0o666)
    os.chmod(fifo, 0o666)
    target = subprocess.Popen([PYTHON, TARGET, fifo], stdout=subprocess.PIPE, user=65534, group=65534, extra_groups=[],
                              cwd="/")
    target.stdout.readline()
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    gate = None
    try:
        stuck = [tid for tid, state in thread_states(target.pid).items() if tid != target.pid]
        check(len(stuck) == 1, "the target has its spawner thread, waiting for its vfork child: %s" % thread_states(target.pid))
        status, s, _ = timed(daemon, "POST", "/sessions", {"pid": target.pid, "rate_hz": 50, "duration_s": 60, "blocking": True})
        check(status == 201, "a blocking session starts")
        time.sleep(1)
        status, _, took = timed(daemon, "GET", "/healthz")
        check(status == 200 and took < 1, "/healthz answers meanwhile (%.3f s)" % took)
        done = wait_for_state(daemon, s["id"], {"failed", "completed", "stopped"}, timeout=30)
        check(done is not None and done["state"] == "failed" and "for blocking sampling" in done.get("failure", "") and
              "without blocking" in done.get("failure", ""),
              "the session gives up, failed, saying why: %r" % ((done and (done["state"], done.get("failure"))),))
        states = thread_states(target.pid)
        check(all(state != "t" for state in states.values()), "no thread of the target is left stopped: %s" % states)
        before = cpu_ticks(target.pid)
        time.sleep(1)
        check(cpu_ticks(target.pid) > before, "the target runs on")

        # Slowly this time (20 failed samples take 4 s): stopped while it still tries.
        status, s2, _ = timed(daemon, "POST", "/sessions", {"pid": target.pid, "rate_hz": 5, "duration_s": 60, "blocking": True})
        time.sleep(0.5)
        status, stopped, took = timed(daemon, "POST", "/sessions/%s/stop" % s2["id"])
        check(status == 200 and took < 2, "stop returns promptly (%.2f s): %s" % (took, stopped.get("state")))
        time.sleep(0.3)
        states = thread_states(target.pid)
        check(all(state != "t" for state in states.values()), "after a stop too, no thread is left stopped: %s" % states)

        gate = os.open(fifo, os.O_WRONLY)  # lets the child exec: the spawner's wait ends
        for _ in range(100):
            if len(thread_states(target.pid)) == 1:
                break
            time.sleep(0.05)
        check(len(thread_states(target.pid)) == 1, "released, the stuck thread finishes: nothing of ours holds it")
    finally:
        if gate is None:
            try:
                gate = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                pass
        daemon.stop()
        target.kill()
        target.wait()
        if gate is not None:
            os.close(gate)
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
