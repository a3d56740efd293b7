#!/usr/bin/env python3
"""Descriptors, with a real daemon under a low descriptor limit:
- at start it raises its soft limit to the hard one, and caps its connections to
  what the limit leaves room for, saying so; a program a session launches gets the
  limit the daemon started with;
- 400 idle connections (more than the cap, and than the limit allows) neither make
  it spin nor fill its log: the excess waits in the backlog, the log stays small,
  and once the idle ones go, /healthz answers at once;
- the thread files sessions keep open are capped to half of what the connections
  leave: a session on a 160-thread target keeps no more than that, still samples
  every thread, and releases what it attached at once when it ends, not when it is
  deleted; with sessions on 390 threads running, every connection up to the cap is
  still answered;
- what sessions hold for each process they attach or launch is capped to the other
  half: past it a session (or a stack dump) is refused with 503, saying why, while
  every connection up to the cap is still answered; one ended, another starts;
- when descriptors do run out all the same (the limit lowered under the running
  daemon), accepting backs off and says so once in a while, checkpoints that fail
  say so once per session, and once descriptors are free it serves again.

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


def cpu_seconds(stat_path):
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid):
    return cpu_seconds("/proc/%d/stat" % pid)


def threads_cpu_seconds(pid, name):
    """The CPU time of the process's threads of that name, and how many there are."""
    total, named = 0.0, 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            total += cpu_seconds("/proc/%d/task/%s/stat" % (pid, tid))
            named += 1
        except OSError:  # the thread ended
            pass
    return total, named


def idle_connections(port, count):
    """Connections that never send a request."""
    made = []
    for _ in range(count):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        made.append(c)
    return made


def healthz_at_once(port, count):
    """How many of count connections, all open at once, get /healthz answered."""
    connections = []
    for _ in range(count):
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        connections.append(c)
    answered = 0
    for c in connections:
        try:
            answered += c.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            pass
        c.close()
    return answered


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-descriptors-")
    config = os.path.join(work, "c.yaml")
    with open(config, "w") as f:
        f.write("targets: {allow_commands: true}\nlimits: {max_connections: 1000, max_running_sessions: 64}\n")
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

        check("256 descriptors: up to 96 connections, 48 for the processes sessions attach or launch (about 8 "
              "processes), and up to 48 thread files kept open" in daemon.log(),
              "thread files kept open get half of what the connections leave, and it says so")
        show_limit = "import resource, time; print('PROGRAM %d %d' % resource.getrlimit(resource.RLIMIT_NOFILE)); time.sleep(1)"
        status, _, s = daemon.request("POST", "/sessions", {"command": [PYTHON, "-c", show_limit], "duration_s": 10})
        done = wait_for_state(daemon, s["id"], {"target_exited", "completed", "failed"}) if status == 201 else None
        status, _, output = daemon.request("GET", "/sessions/%s/output" % s["id"]) if done else (None, None, "")
        check(status == 200 and "PROGRAM 128 256" in str(output),
              "a program a session launches gets the limit the daemon started with: %r" % (output,))

        baseline = open_descriptors(daemon.process.pid)
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 1, "idle": True})
        check(status == 201, "a session on a 160-thread target")
        time.sleep(0.5)
        during = open_descriptors(daemon.process.pid)
        done = wait_for_state(daemon, s["id"], {"completed"})
        time.sleep(0.2)
        after = open_descriptors(daemon.process.pid)
        # 48 thread files, and the session's pidfd and directories.
        check(done is not None and baseline + 40 <= during <= baseline + 48 + 8 and after <= baseline + 2,
              "its descriptors: %d before, %d while it runs, %d once it ended" % (baseline, during, after))
        sampled = [t for t in done["threads_seen"] if t["samples"] == done["samples"]] if done else []
        check(done is not None and len(sampled) == 160 and done["errors"]["thread_errors"] == 0,
              "every thread is in every sample all the same: %d of 160, %s thread errors"
              % (len(sampled), done and done["errors"]["thread_errors"]))

        log_before = os.path.getsize(daemon.log_path)
        cpu_before = process_cpu_seconds(daemon.process.pid)
        idle += idle_connections(daemon.port, 400)
        time.sleep(6)
        grown = os.path.getsize(daemon.log_path) - log_before
        cpu = process_cpu_seconds(daemon.process.pid) - cpu_before
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

        # Sessions on big targets do not take the connections' descriptors: with 390
        # threads sampled (more than the limit), the 96 connections the cap allows are
        # all answered.
        big = subprocess.Popen([PYTHON, PARKED, "230"], stdout=subprocess.PIPE, user=65534, group=65534,
                               extra_groups=[], cwd="/")
        big.stdout.readline()
        sessions = []
        try:
            for pid in (target.pid, big.pid):
                status, _, s = daemon.request("POST", "/sessions", {"pid": pid, "rate_hz": 20, "duration_s": 60, "idle": True})
                check(status == 201, "a session on process %d" % pid)
                sessions.append(s["id"])
            time.sleep(1)
            held = open_descriptors(daemon.process.pid)
            answered = healthz_at_once(daemon.port, 96)
            check(answered == 96, "with sessions on 390 threads running (%d descriptors held), %d of 96 connections at once "
                  "are answered" % (held, answered))
            # Ended, not only asked to (a stop may answer 202 and end in the background):
            # their processes' descriptors are given back before the state changes.
            for sid in sessions:
                daemon.request("POST", "/sessions/%s/stop" % sid)
                wait_for_state(daemon, sid, {"stopped", "completed", "failed", "target_exited"})
        finally:
            big.kill()
            big.wait()

        # Sessions hold descriptors for each process they attach or launch: past the
        # share for those, a session is refused (503, saying why), so that sessions can
        # never take the connections' descriptors. 48 descriptors, 6 per process.
        check("48 for the processes sessions attach or launch (about 8 processes)" in daemon.log(),
              "what sessions hold per process gets the other half, and it says so")
        sessions, refused = [], None
        for _ in range(20):
            status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 5, "duration_s": 60})
            if status != 201:
                refused = (status, s)
                break
            sessions.append(s["id"])
        detail = refused[1].get("detail", "") if refused and isinstance(refused[1], dict) else ""
        check(len(sessions) == 8 and refused[0] == 503 and "hold 48 of the 48 descriptors" in detail
              and "raise the limit" in detail,
              "8 sessions start, the 9th is refused with 503: %d started, then %r" % (len(sessions), refused))
        status, _, s = daemon.request("POST", "/sessions", {"command": [PYTHON, "-c", "pass"], "duration_s": 10})
        check(status == 503, "so is a program to launch (%s)" % status)
        status, _, _ = daemon.request("GET", "/processes/%d/stacks" % target.pid)
        check(status == 503, "and a stack dump, which attaches too (%s)" % status)
        answered = healthz_at_once(daemon.port, 96)
        check(answered == 96, "with those 8 running (%d descriptors held), %d of 96 connections at once are answered"
              % (open_descriptors(daemon.process.pid), answered))
        stopping = sessions.pop()
        daemon.request("POST", "/sessions/%s/stop" % stopping)
        wait_for_state(daemon, stopping, {"stopped"})
        # 6 free: a program to launch needs 14 (its pipes and cgroup, and its process's 6).
        status, _, s = daemon.request("POST", "/sessions", {"command": [PYTHON, "-c", "pass"], "duration_s": 10})
        check(status == 503 and "this needs 14" in s.get("detail", ""),
              "with 6 free, a program to launch is refused too: it needs 14 (%s %s)" % (status, s.get("detail")))
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 5, "duration_s": 60})
        check(status == 201, "one stopped, another starts (%s)" % status)
        if status == 201:
            sessions.append(s["id"])

        # Descriptors can still run out, the limit lowered under a running daemon (as
        # `prlimit --pid` does): accepting fails, backs off, and says so once in a while.
        time.sleep(1)
        held = open_descriptors(daemon.process.pid)
        subprocess.run(["prlimit", "--pid", str(daemon.process.pid), "--nofile=%d:256" % (held + 8)], check=True)
        log_before = os.path.getsize(daemon.log_path)
        # The HTTP threads' CPU, not the sessions': an accept that failed and was tried
        # again at once would spin one of them.
        cpu_before, http_threads = threads_cpu_seconds(daemon.process.pid, "pyprofd-http")
        check(http_threads > 0, "the daemon's HTTP threads are named pyprofd-http (%d)" % http_threads)
        idle += idle_connections(daemon.port, 150)
        time.sleep(5)
        cpu = threads_cpu_seconds(daemon.process.pid, "pyprofd-http")[0] - cpu_before
        log = daemon.log()
        check("Too many open files; accepting again in" in log, "at the descriptor limit, accepting backs off and says so")
        # The sessions' checkpoints fail too: each says so once (they are tried again,
        # and say when they are saved), so that is a line per session, not a flood.
        grown_lines = log.encode()[log_before:].decode(errors="replace").splitlines()
        not_saved = [line for line in grown_lines if " not saved: " in line]
        by_session = len(set(line.split("session=")[1].split()[0] for line in not_saved))
        other = sum(len(line) + 1 for line in grown_lines if " not saved: " not in line)
        check(len(not_saved) == by_session,
              "a checkpoint that cannot be written says so once per session (%d lines, %d sessions)"
              % (len(not_saved), by_session))
        if other >= 8192:
            sys.stdout.write("what it logged:\n" + "\n".join(grown_lines)[-3000:] + "\n")
        check(other < 8192 and cpu < 1.0,
              "without flooding the log (%d bytes in 5 s) or spinning (%.2f s of its HTTP threads' CPU)" % (other, cpu))
        for c in idle:
            c.close()
        idle = []
        subprocess.run(["prlimit", "--pid", str(daemon.process.pid), "--nofile=256:256"], check=True)
        time.sleep(1.5)
        answers = [daemon.request("POST", "/sessions/%s/stop" % sid) for sid in sessions]
        stopped = sum(status == 200 for status, _, _ in answers)
        check(stopped == len(sessions), "and serves again once descriptors are free (%d of %d sessions stopped; %s)"
              % (stopped, len(sessions), [(a[0], a[2]) for a in answers if a[0] != 200][:2]))
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
