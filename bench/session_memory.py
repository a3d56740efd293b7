#!/usr/bin/env python3
"""A long session's memory: one daemon session at 1 kHz on the Flask app of the
end-to-end scenario (tests/targets/flask_app.py) while a paced client requests
several of its URLs (found, not found, wrong method, with and without a query, so
that the stacks vary). Every few minutes, and at 10, 30 and 60 minutes, prints the
daemon's RSS (VmRSS) and peak RSS (VmHWM), the session's samples and share on
schedule, its unique stacks (lines of /sessions/ID/folded, the threads merged),
the stacks its profile holds (lines of its checkpoint in the daemon's state
directory: a root frame per thread, so that a graph by thread can be drawn), its
errors, and the daemon's CPU. What to look for: the daemon's memory follows the
stacks held, not the time the session has run; on a thread-per-request server
every new thread brings its stacks anew, so those grow with the requests served
until one of the profile's limits (limits.max_profile_stacks, _frames, _label_mb)
caps them, and later samples of new stacks count under [truncated]. Asserts nothing.

The target, the client and the daemon run at nice 10, so that a shared 2-core
machine stays usable during the hour; the client is paced (REQUESTS_PER_S, default
50) so that it and the server it loads take about half a core.

Usage: session_memory.py PYPROFD_BINARY SOURCE_DIR [MINUTES] [REQUESTS_PER_S]
"""
import http.client
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
from daemon_support import Daemon, ends_with_this_process, finish_on_termination, free_port, wait_until_served  # noqa: E402
from flask_app_copy import own_copy_of_the_app  # noqa: E402
MINUTES = float(sys.argv[3]) if len(sys.argv) > 3 else 60
REQUESTS_PER_S = float(sys.argv[4]) if len(sys.argv) > 4 else 50
RATE_HZ = 1000
PYTHON = "/usr/bin/python3.11"


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1))


def cpu_seconds(pid):
    """User plus system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PacedClient(threading.Thread):
    """REQUESTS_PER_S requests a second, one at a time, each on a new connection
    (werkzeug's threaded server gives each a new thread, as the seed's service did),
    to URLs picked at random so that the server's stacks vary."""

    def __init__(self, port, per_second):
        super().__init__(daemon=True)
        self.port, self.period = port, 1.0 / per_second
        self.done = self.failed = 0
        self.stopping = threading.Event()

    def one(self, rng):
        kind = rng.randrange(6)
        name = "user%d" % rng.randrange(1000)
        if kind == 0:
            method, path = "GET", "/name/%s.json" % name
        elif kind == 1:
            method, path = "GET", "/name/%s.json?lang=%s&n=%d" % (name, rng.choice("abc"), rng.randrange(100))
        elif kind == 2:
            method, path = "GET", "/missing/%s" % name  # 404
        elif kind == 3:
            method, path = "POST", "/name/%s.json" % name  # 405
        elif kind == 4:
            method, path = "HEAD", "/name/%s.json" % name
        else:
            method, path = "GET", "/name/%s.txt" % name  # 404 by its suffix
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=b"x" * rng.randrange(64) if method == "POST" else None)
            response = connection.getresponse()
            response.read()
            return response.status < 500
        finally:
            connection.close()

    def run(self):
        rng = random.Random(16)
        next_at = time.monotonic()
        while not self.stopping.is_set():
            try:
                ok = self.one(rng)
            except OSError:
                ok = False
            self.done += 1
            self.failed += 0 if ok else 1
            next_at += self.period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()  # behind: no burst to catch up


def unique_stacks(daemon, sid):
    """Lines of the session's folded stacks (one per unique stack), or None."""
    status, _, body = daemon.request("GET", "/sessions/%s/folded" % sid, raw=True)
    if status != 200:
        return None
    return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))  # '#': metadata


def held_stacks(state_dir, sid):
    """Lines of the session's last checkpoint in the daemon's state directory: the
    stacks its profile holds, a root frame per thread (what /folded shows merges the
    threads), or None before the first checkpoint."""
    try:
        with open(os.path.join(state_dir, "sessions", sid + ".folded"), "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return None


def main():
    finish_on_termination()  # a kill ends the bench through its finally blocks
    os.nice(10)  # inherited by the daemon, the target and the client
    work = tempfile.mkdtemp(prefix="pyprofd-session-memory-")
    config = os.path.join(work, "memory.yaml")
    with open(config, "w") as f:
        f.write("limits: {max_duration_s: %d}\n" % (MINUTES * 60 + 600))
    state_dir = os.path.join(work, "state")
    daemon = Daemon(PYPROFD, ["--config", config, "--listen", "127.0.0.1:0", "--state-dir", state_dir],
                    os.path.join(work, "daemon.log"))
    app_port = free_port()
    app = subprocess.Popen([PYTHON, own_copy_of_the_app(work, SOURCE), str(app_port)],
                           stdout=subprocess.PIPE, preexec_fn=ends_with_this_process())
    client = None
    try:
        app.stdout.readline()
        if not wait_until_served("http://127.0.0.1:%d/name/world.json" % app_port):
            print("the Flask app did not answer")
            return 1
        client = PacedClient(app_port, REQUESTS_PER_S)
        client.start()
        dpid = daemon.process.pid
        rss_idle = status_kib(dpid, "VmRSS")
        duration = MINUTES * 60
        status, _, session = daemon.request("POST", "/sessions", {"pid": app.pid, "rate_hz": RATE_HZ, "duration_s": duration})
        if status != 201:
            print("the session did not start: %s %s" % (status, session))
            return 1
        sid = session["id"]
        started, cpu_start = time.monotonic(), cpu_seconds(dpid)
        print("pyprofd %s: one session at %d Hz for %g min on Flask (%s, pid %d) under %g requests/s, nice 10"
              % (PYPROFD, RATE_HZ, MINUTES, PYTHON, app.pid, REQUESTS_PER_S))
        print("daemon RSS before the session: %.1f MiB" % (rss_idle / 1024))
        print("stacks: unique stacks (lines of /folded, threads merged); held: the stacks the profile holds, a root "
              "frame per thread (lines of its last checkpoint); KiB/held: RSS above the idle daemon's per held stack")
        print("truncated: samples counted under [truncated] once the profile reached one of its limits (limits.max_profile_*)")
        print("%7s %8s %8s %10s %8s %7s %7s %8s %9s %7s %6s %7s %9s" %
              ("minute", "RSS MiB", "HWM MiB", "samples", "on sch.", "stacks", "held", "KiB/held", "truncated", "f.samp",
               "t.err", "cpu %", "requests"), flush=True)
        step = 300 if MINUTES >= 30 else 60 if MINUTES >= 5 else 15
        marks = sorted(set([t for t in range(step, int(duration) + 1, step)] + [t * 60 for t in (10, 30, 60) if t * 60 <= duration]))
        if not marks or marks[-1] < duration:
            marks.append(duration)
        cpu_before, when_before = cpu_start, started
        rows = []
        for mark in marks:
            time.sleep(max(0, started + mark - 1 - time.monotonic()))  # a second before the end: the session still runs
            rss, hwm = status_kib(dpid, "VmRSS"), status_kib(dpid, "VmHWM")
            now, cpu = time.monotonic(), cpu_seconds(dpid)
            _, _, s = daemon.request("GET", "/sessions/" + sid)
            stacks, held = unique_stacks(daemon, sid), held_stacks(state_dir, sid)
            on_schedule = s["samples"] / max(1, s["elapsed_s"] * RATE_HZ)
            share = (cpu - cpu_before) / max(1e-9, now - when_before)
            cpu_before, when_before = cpu, now
            rows.append((mark, rss, stacks, held))
            print("%7.1f %8.1f %8.1f %10d %7.1f%% %7s %7s %8s %9d %7d %6d %6.1f%% %9d" %
                  (mark / 60, rss / 1024, hwm / 1024, s["samples"], 100 * on_schedule, stacks if stacks is not None else "?",
                   held if held is not None else "?", "%.2f" % ((rss - rss_idle) / held) if held else "?",
                   s.get("truncated", {}).get("samples", 0),
                   s["errors"]["failed_samples"], s["errors"]["thread_errors"], 100 * share, client.done), flush=True)
        final = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, _, final = daemon.request("GET", "/sessions/" + sid)
            if final["state"] != "running":
                break
            time.sleep(0.5)
        expected = final.get("samples_expected") or round(final["elapsed_s"] * RATE_HZ)
        cpu_total = cpu_seconds(dpid) - cpu_start
        print("end: state %s, %d samples of %d expected (%.2f%% on schedule), failed samples %d, thread errors %d, "
              "lag mean %.2f ms max %.1f ms" %
              (final["state"], final["samples"], expected, 100 * final["samples"] / max(1, expected),
               final["errors"]["failed_samples"], final["errors"]["thread_errors"], final["lag_ms"]["mean"],
               final["lag_ms"]["max"]))
        print("      unique stacks %s, held %s, daemon RSS %.1f MiB (peak %.1f MiB), daemon CPU %.1f s = %.1f µs per sample, "
              "requests %d (%d failed)%s" %
              (unique_stacks(daemon, sid), held_stacks(state_dir, sid), status_kib(dpid, "VmRSS") / 1024, status_kib(dpid, "VmHWM") / 1024, cpu_total,
               1e6 * cpu_total / max(1, final["samples"]), client.done, client.failed,
               ", truncated: %s" % final["truncated"] if "truncated" in final else ""))
        if len(rows) >= 2:  # from the 10-minute mark (or the first) to the end
            m0, r0, k0, h0 = next((r for r in rows if r[0] >= 600 and r is not rows[-1]), rows[0])
            m1, r1, k1, h1 = rows[-1]
            print("      from minute %.1f to %.1f: RSS %+.1f MiB, unique stacks %+d, held %+d" %
                  (m0 / 60, m1 / 60, (r1 - r0) / 1024, (k1 or 0) - (k0 or 0), (h1 or 0) - (h0 or 0)))
    finally:
        if client:
            client.stopping.set()
        app.kill()
        app.wait()
        daemon.stop(signal.SIGTERM, 30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
