#!/usr/bin/env python3
"""GET /metrics with a real daemon, read by Prometheus's own checker: `promtool check
metrics` (Debian's prometheus package) takes it without a complaint, before and after
requests and sessions. Sessions are counted by state; request durations are a histogram
by route template and method, whose buckets grow with requests, and whose routes are
templates (never a raw path: a client cannot make series at will). Descriptors:
the process's open ones and its limit, and what the sessions hold of their shares.

Without promtool the check by promtool is skipped locally, and said so; under CI (CI
set) it fails.

Usage: metrics_test.py PYPROFD_BINARY
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, report, wait_for_state  # noqa: E402

IN_CI = bool(os.environ.get("CI"))
HISTOGRAM = "pyprofd_http_request_duration_seconds"


def metrics(daemon):
    status, headers, body = daemon.request("GET", "/metrics", raw=True)
    check(status == 200 and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "/metrics answers Prometheus's text format: %s %s" % (status, headers.get("Content-Type")))
    return body.decode()


def samples(text):
    """{'name{labels}': value} of every sample line."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            found[series] = float(value)
    return found


def promtool_accepts(text, when):
    promtool = shutil.which("promtool")
    if not promtool:
        if IN_CI:
            check(False, "MISSING in CI: promtool (Debian's prometheus, scripts/deps-test.txt)")
        else:
            print("SKIP promtool check metrics %s: no promtool (Debian's prometheus)" % when, flush=True)
        return
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    complaints = (done.stdout + done.stderr).strip()
    check(done.returncode == 0 and not complaints,
          "promtool check metrics takes /metrics %s without a complaint: %d %s" % (when, done.returncode, complaints))


def bucket(found, route, method, le):
    return found.get('%s_bucket{route="%s",method="%s",le="%s"}' % (HISTOGRAM, route, method, le), 0)


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-metrics-test-")
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    target = subprocess.Popen([PYTHON, "-c", "import time\nprint('ready', flush=True)\nwhile True: time.sleep(0.01)"],
                              stdout=subprocess.PIPE)
    target.stdout.readline()
    try:
        first = metrics(daemon)
        promtool_accepts(first, "of a daemon just started")
        for state in ("running", "completed", "stopped", "target_exited", "failed", "interrupted"):
            check('pyprofd_sessions{state="%s"} 0' % state in first, "sessions are counted by state: %s, 0 at start" % state)

        # Requests: the health check ten times, a session's page of an id (a template's
        # route), a path that no route takes, a session that runs and one that completes.
        before = samples(metrics(daemon))
        for _ in range(10):
            daemon.request("GET", "/healthz")
        daemon.request("GET", "/sessions/0123456789abcdef")
        daemon.request("GET", "/no/such/path/x1y2z3")
        status, _, done = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 50, "duration_s": 0.3})
        check(status == 201, "a session starts: %s" % status)
        status, _, running = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 50, "duration_s": 60})
        wait_for_state(daemon, done["id"], ("completed",))
        text = metrics(daemon)
        after = samples(text)
        promtool_accepts(text, "after requests and sessions")

        check('pyprofd_sessions{state="running"} 1' in text and 'pyprofd_sessions{state="completed"} 1' in text,
              "a running and a completed session are counted by their states")
        count = '%s_count{route="/healthz",method="GET"}' % HISTOGRAM
        check(after.get(count, 0) - before.get(count, 0) == 10, "ten health checks are counted: %s" % after.get(count))
        check(bucket(after, "/healthz", "GET", "+Inf") - bucket(before, "/healthz", "GET", "+Inf") == 10,
              "the +Inf bucket grew by ten")
        check(bucket(after, "/healthz", "GET", "0.1") - bucket(before, "/healthz", "GET", "0.1") == 10,
              "the 0.1 s bucket grew by ten too (a health check is fast)")
        bounds = [float(m) for m in re.findall(r'%s_bucket\{route="/healthz",method="GET",le="([0-9.e+-]+)"\}' % HISTOGRAM, text)]
        check(bounds == sorted(bounds) and len(bounds) >= 10, "the buckets' bounds go up: %s" % bounds)
        values = [bucket(after, "/healthz", "GET", b if b != int(b) else int(b)) for b in bounds]
        check(values == sorted(values), "and their counts are cumulative: %s" % values)
        check(after.get('%s_count{route="/sessions/{id}",method="GET"}' % HISTOGRAM, 0) >= 1,
              "a session's page is counted under its template /sessions/{id}")
        check(after.get('%s_count{route="/sessions",method="POST"}' % HISTOGRAM, 0) == 2, "so are the two POST /sessions")
        check(after.get('%s_count{route="unmatched",method="GET"}' % HISTOGRAM, 0) >= 1,
              "a path no route takes is counted as unmatched")
        check("0123456789abcdef" not in text and "x1y2z3" not in text, "no raw path becomes a label")
        sum_line = after.get('%s_sum{route="/healthz",method="GET"}' % HISTOGRAM, -1)
        check(0 < sum_line < 5, "the durations' sum is in seconds: %s" % sum_line)
        check(after.get('pyprofd_http_responses_total{code="404"}', 0) - before.get('pyprofd_http_responses_total{code="404"}', 0) == 2,
              "responses are still counted by status")

        # Descriptors: the process's own (Prometheus's names) and the sessions' shares.
        # One session runs: one attached process's 6.
        open_now = len(os.listdir("/proc/%d/fd" % daemon.process.pid))
        check(abs(after.get("process_open_fds", -100) - open_now) <= 3 and after.get("process_max_fds", 0) > open_now,
              "process_open_fds (%s, /proc says %d) and process_max_fds (%s)"
              % (after.get("process_open_fds"), open_now, after.get("process_max_fds")))
        held = after.get('pyprofd_descriptors_held{share="processes"}')
        allowed = after.get('pyprofd_descriptors_allowed{share="processes"}', 0)
        check(held == 6 and allowed > 6, "the running session's process holds 6 of the processes' %s descriptors: %s"
              % (allowed, held))
        check(after.get('pyprofd_descriptors_allowed{share="thread_files"}', 0) > 0
              and 'pyprofd_descriptors_held{share="thread_files"}' in after,
              "and the thread files' share is there too: %s of %s"
              % (after.get('pyprofd_descriptors_held{share="thread_files"}'),
                 after.get('pyprofd_descriptors_allowed{share="thread_files"}')))
        daemon.request("POST", "/sessions/%s/stop" % running["id"])
        wait_for_state(daemon, running["id"], ("stopped",))
        check(samples(metrics(daemon)).get('pyprofd_descriptors_held{share="processes"}') == 0,
              "stopped, it holds none")
    finally:
        target.kill()
        target.wait()
        check(daemon.stop() == 0, "the daemon stops cleanly")
    failed = report()
    if failed:
        print("left for a look: " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
