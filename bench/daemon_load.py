#!/usr/bin/env python3
"""The daemon under load: 200 concurrent connections for 30 s (wrk) on
GET /sessions/ID/flame.svg, then on GET /sessions, while 8 sessions sample two
Python processes at 1 kHz. Prints requests per second, errors (non-2xx and socket
errors; the target is 0), p50 and p99 latency, and the daemon's RSS before, between
and after (the target: no growth). Asserts nothing.

Usage: daemon_load.py PYPROFD_BINARY SOURCE_DIR [SECONDS]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
from daemon_support import PYTHON, Daemon, ends_with_this_process, finish_on_termination  # noqa: E402
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 30


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def wrk(url):
    out = subprocess.run(["wrk", "-t2", "-c200", "-d%ds" % SECONDS, "--latency", "--timeout", "10s", url],
                         capture_output=True, text=True).stdout
    def find(pattern, default="?"):
        m = re.search(pattern, out)
        return m.group(1) if m else default
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    errors += int(find(r"Non-2xx or 3xx responses: (\d+)", "0"))
    return {"rps": find(r"Requests/sec:\s+([\d.]+)"), "p50": find(r"\s50%\s+(\S+)"), "p99": find(r"\s99%\s+(\S+)"),
            "requests": find(r"(\d+) requests in"), "errors": errors}


def main():
    finish_on_termination()  # a kill ends the bench through its finally blocks
    if not shutil.which("wrk"):
        print("wrk is needed (Debian package wrk; scripts/deps-test.txt)")
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-load-")
    config = os.path.join(work, "load.yaml")
    with open(config, "w") as f:
        f.write("limits: {max_duration_s: 600}\n")
    daemon = Daemon(PYPROFD, ["--config", config, "--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    targets = [subprocess.Popen([PYTHON, os.path.join(SOURCE, "tests/targets/heavy_light.py")], stdout=subprocess.PIPE,
                                preexec_fn=ends_with_this_process())
               for _ in range(2)]
    try:
        for t in targets:
            t.stdout.readline()
        port = daemon.port
        # A finished session to draw, then eight sampling at 1 kHz throughout.
        _, _, done = daemon.request("POST", "/sessions", {"pid": targets[0].pid, "rate_hz": 1000, "duration_s": 3})
        time.sleep(3.5)
        for i in range(8):
            daemon.request("POST", "/sessions", {"pid": targets[i % 2].pid, "rate_hz": 1000, "duration_s": 3 * SECONDS + 30})
        time.sleep(2)
        rss_start = rss_kib(daemon.process.pid)
        graph = wrk("http://127.0.0.1:%d/sessions/%s/flame.svg" % (port, done["id"]))
        rss_between = rss_kib(daemon.process.pid)
        listing = wrk("http://127.0.0.1:%d/sessions" % port)
        rss_end = rss_kib(daemon.process.pid)
        _, _, running = daemon.request("GET", "/sessions?state=running")
        print("daemon under load, 200 connections, %d s each, 8 sessions at 1 kHz meanwhile (2-core machine):" % SECONDS)
        for name, r in (("GET /sessions/ID/flame.svg", graph), ("GET /sessions", listing)):
            print("  %-28s %8s req/s  %9s requests  errors %d  p50 %s  p99 %s" %
                  (name, r["rps"], r["requests"], r["errors"], r["p50"], r["p99"]))
        print("  daemon RSS: %.1f MiB before, %.1f MiB between, %.1f MiB after" %
              (rss_start / 1024, rss_between / 1024, rss_end / 1024))
        samples = sum(s["samples"] for s in running["sessions"])
        print("  the 8 sessions: %d running, %d samples so far (%.0f per session per second)" %
              (running["total"], samples, samples / 8 / max(1, 2 * SECONDS + 2)))
    finally:
        daemon.stop(signal.SIGTERM, 30)
        for t in targets:
            t.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
