#!/usr/bin/env python3
"""The seed's run: the Flask app of the end-to-end scenario (tests/targets/flask_app.py,
werkzeug's thread-per-request server) on Debian's /usr/bin/python3 under `ab -c 1`
without pause, and a daemon session by PID at 10 kHz for 20 s through the API
(POST /sessions {pid, rate_hz: 10000, duration_s: 20}). The seed's py-spy printed
"Samples: 200000 Errors: 0".

A baseline build and a new build run in turns (each its own daemon, started once);
for each session, and the median over ROUNDS:

- samples taken of rate × duration (200,000) and their share, and the session's
  samples_expected;
- thread errors and failed samples (the session's JSON);
- the daemon's CPU per sample (/proc/PID/stat before and after the session), and
  its share of a core;
- its split into user and kernel time (the kernel's: system calls and wake-ups;
  the split is sampled at the kernel's tick, good over a session, not per sample);
- ab's requests per second without a session (the mean of SECONDS/2 just before
  and SECONDS/2 just after) and during it, and their ratio.

Then, under the same load, bench_tick_floor (built beside NEW): the kernel's part
of a sample done alone, the floor under the daemon's CPU per sample here.

Prints figures and the ratio new / baseline; asserts nothing.

Usage: seed_10khz.py BASELINE_PYPROFD NEW_PYPROFD SOURCE_DIR [SECONDS] [ROUNDS] [RATE_HZ]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
BASELINE, NEW, SOURCE = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
from baseline_comparison import alternate, print_table  # noqa: E402
from flask_app_copy import own_copy_of_the_app  # noqa: E402
from daemon_support import (Daemon, ends_with_this_process, finish_on_termination, free_port,  # noqa: E402
                            wait_until_served, wait_for_state)

SECONDS = float(sys.argv[4]) if len(sys.argv) > 4 else 20
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 2
RATE_HZ = float(sys.argv[6]) if len(sys.argv) > 6 else 10000
PYTHON = "/usr/bin/python3"


def cpu_times(pid):
    """(user, system) CPU time of a process so far, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def kernel_floor(app_pid, url):
    """bench_tick_floor (beside NEW's build) against the app under the same load: the
    kernel's part of a sample done alone. Its output lines, or why there are none."""
    floor = os.path.join(os.path.dirname(os.path.abspath(NEW)), "bench", "bench_tick_floor")
    if not os.access(floor, os.X_OK):
        return ["(no %s: build the bench targets)" % floor]
    probe = subprocess.Popen([floor, str(app_pid), "%g" % SECONDS, "%g" % RATE_HZ], stdout=subprocess.PIPE, text=True,
                             preexec_fn=ends_with_this_process())
    ab(url, SECONDS - 0.5)
    out, _ = probe.communicate(timeout=SECONDS + 60)
    return out.splitlines()


def ab(url, seconds):
    """(requests per second, failed requests) of `ab -c 1` for seconds."""
    out = subprocess.run(["ab", "-q", "-c", "1", "-t", "%g" % seconds, "-n", "100000000", url], capture_output=True,
                         text=True).stdout
    rps = re.search(r"Requests per second:\s+([\d.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    return (float(rps.group(1)) if rps else None), (int(failed.group(1)) if failed else None)


def session_run(daemon, app_pid, url):
    """One quiet window, then one session under the same load; its figures."""
    before_rps, _ = ab(url, SECONDS / 2)
    dpid = daemon.process.pid
    user_before, system_before = cpu_times(dpid)
    status, _, session = daemon.request("POST", "/sessions", {"pid": app_pid, "rate_hz": RATE_HZ, "duration_s": SECONDS})
    if status != 201:
        print("    the session did not start: %s %s" % (status, session), flush=True)
        return {}
    during = dict(zip(("rps", "failed"), ab(url, SECONDS - 0.5)))  # within the session's time
    s = wait_for_state(daemon, session["id"], ("completed", "stopped", "target_exited", "failed"), timeout=SECONDS + 60)
    user_after, system_after = cpu_times(dpid)
    user, system = user_after - user_before, system_after - system_before
    cpu = user + system
    if s is None:
        print("    the session did not end", flush=True)
        return {}
    after_rps, _ = ab(url, SECONDS / 2)
    quiet_rps = (before_rps + after_rps) / 2 if before_rps and after_rps else None
    wanted = RATE_HZ * SECONDS
    return {
        "samples": s["samples"],
        "share": 100.0 * s["samples"] / wanted,
        "expected": s.get("samples_expected"),
        "thread_errors": s["errors"]["thread_errors"],
        "failed_samples": s["errors"]["failed_samples"],
        "errors_pct": 100.0 * (s["errors"]["thread_errors"] + s["errors"]["failed_samples"]) / max(1, s["samples"]),
        "cpu_us": 1e6 * cpu / max(1, s["samples"]),
        "user_us": 1e6 * user / max(1, s["samples"]),
        "system_us": 1e6 * system / max(1, s["samples"]),
        "core": 100.0 * cpu / max(1e-9, s["elapsed_s"]),
        "lag_mean_ms": s["lag_ms"]["mean"],
        "quiet_rps": quiet_rps,
        "rps": during.get("rps"),
        "rps_ratio": 100.0 * during["rps"] / quiet_rps if during.get("rps") and quiet_rps else None,
        "ab_failed": during.get("failed"),
        "state": s["state"],
    }


FIGURES = (
    ("samples", "samples taken", "%.0f"),
    ("share", "share of rate x duration (%)", "%.2f"),
    ("expected", "samples_expected (session JSON)", "%.0f"),
    ("thread_errors", "thread errors", "%.0f"),
    ("failed_samples", "failed samples", "%.0f"),
    ("errors_pct", "errors, % of samples", "%.3f"),
    ("cpu_us", "daemon CPU per sample (µs)", "%.1f"),
    ("user_us", "  of which user (µs)", "%.1f"),
    ("system_us", "  of which kernel (µs)", "%.1f"),
    ("core", "daemon CPU, % of a core", "%.1f"),
    ("lag_mean_ms", "mean lag (ms)", "%.3f"),
    ("quiet_rps", "ab requests/s without a session", "%.1f"),
    ("rps", "ab requests/s during the session", "%.1f"),
    ("rps_ratio", "during / without (%)", "%.1f"),
)


def main():
    finish_on_termination()  # a kill ends the bench through its finally blocks
    if not shutil.which("ab"):
        print("ab is needed (Debian package apache2-utils)")
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-seed-10khz-")
    daemons = {}
    app = None
    try:
        for label, binary in (("baseline", BASELINE), ("new", NEW)):
            daemons[label] = Daemon(binary, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, label)],
                                     os.path.join(work, label + ".log"))
        port = free_port()
        app = subprocess.Popen([PYTHON, own_copy_of_the_app(work, SOURCE), str(port)],
                               stdout=subprocess.PIPE, preexec_fn=ends_with_this_process())
        app.stdout.readline()
        url = "http://127.0.0.1:%d/name/world.json" % port
        if not wait_until_served(url):
            print("the Flask app did not answer")
            return 1
        ab(url, 2)  # warm up
        print("the seed's run: Flask (%s) under ab -c 1, a daemon session at %g Hz for %g s, %d rounds, baseline and "
              "new in turns\n  baseline: %s\n  new:      %s" % (PYTHON, RATE_HZ, SECONDS, ROUNDS, BASELINE, NEW), flush=True)

        def run(binary, label, round_):
            r = session_run(daemons[label], app.pid, url)
            print("    %s round %d: %s" % (label, round_, ", ".join(
                "%s %s" % (k, "%.2f" % v if isinstance(v, float) else v) for k, v in r.items())), flush=True)
            return r

        results = alternate(BASELINE, NEW, ROUNDS, run)
        print_table("  median of %d:" % ROUNDS, results, FIGURES)
        # The budget: what the same load leaves for a sample's system calls alone.
        for line in kernel_floor(app.pid, url):
            print("  " + line, flush=True)
    finally:
        if app:
            app.kill()
            app.wait()
        for d in daemons.values():
            d.stop(signal.SIGTERM, 30)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
