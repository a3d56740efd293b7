#!/usr/bin/env python3
"""Sampling a process of many threads with `pyprofd record --pid`: the 160-thread
target (bench/many_threads_target.py: 156 threads parked on an Event, 4 busy) on
Debian's python3.11 and on pyenv's 3.11 and 3.12 where present, non-blocking at
100 Hz and 1 kHz and blocking at 100 Hz, SECONDS each. A baseline build and a new
build run in turns (baseline, new, baseline, ...) in the same run; for each, the
median over ROUNDS of:

- samples on schedule: samples recorded / (rate × seconds);
- CPU per sample: record's CPU after it attached (its CPU at the end, from wait4,
  less its CPU when it announced sampling, from /proc), / samples; and with the
  attach included;
- CPU per sample once settled: record's CPU (from /proc) between 1 s after it
  announced sampling and 0.25 s before its end, / the samples due in between at the
  rate it kept (runs of 2 s or more). It leaves out what a recording pays once: the
  first samples, which read every thread afresh, arming the parked threads' watches
  (bench_sample_cost's "first samples" shows both), and writing the profile out;
- the target's throughput (the busy threads' increments per second) during the
  recording, against the mean of SECONDS/2 just before it and SECONDS/2 just after;
- errors: what record reports (failed samples and thread errors together).

Prints figures and the ratio new / baseline; asserts nothing.

Usage: many_threads.py BASELINE_PYPROFD NEW_PYPROFD [SECONDS] [ROUNDS] [PYTHON...]
       (PYPROFD_BENCH_MODES=non-blocking:100,blocking:100 for some of the modes only)
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "daemon"))
from baseline_comparison import alternate, mean_and_interval, print_table  # noqa: E402
from daemon_support import ends_with_this_process, finish_on_termination  # noqa: E402

BASELINE, NEW = sys.argv[1], sys.argv[2]
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 5
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
MODES = (("non-blocking", 100), ("non-blocking", 1000), ("blocking", 100))
# PYPROFD_BENCH_MODES="non-blocking:100" runs only those (more rounds of one mode in
# the same time: the 100 Hz throughput ratio needs them to stand out of the noise).
if os.environ.get("PYPROFD_BENCH_MODES"):
    MODES = tuple((m.split(":")[0], int(m.split(":")[1])) for m in os.environ["PYPROFD_BENCH_MODES"].split(","))


def interpreters():
    if len(sys.argv) > 5:
        return sys.argv[5:]
    found = ["/usr/bin/python3.11"]
    for minor in ("3.11", "3.12"):
        found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/%s.*/bin/python%s" % (minor, minor))))[-1:]
    return [p for p in found if os.access(p, os.X_OK)]


class Target:
    """The target, with the (time, total increments) lines it prints."""

    def __init__(self, python):
        self.process = subprocess.Popen([python, os.path.join(HERE, "many_threads_target.py")], stdout=subprocess.PIPE,
                                        text=True, preexec_fn=ends_with_this_process())
        if self.process.stdout.readline().strip() != "READY":
            raise RuntimeError("the target did not start")
        self.points = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.process.stdout:
            when, total = line.split()
            self.points.append((float(when), int(total)))

    def throughput(self, start, end):
        """Increments per second between two monotonic times: from the points inside,
        or, when fewer than two came (a target paused throughout prints nothing), from
        the nearest points around them."""
        points = list(self.points)
        inside = [p for p in points if start <= p[0] <= end]
        if len(inside) < 2:
            before = [p for p in points if p[0] < start]
            after = [p for p in points if p[0] > end]
            if not before or not after:
                return None
            inside = [before[-1], after[0]]
        (t0, c0), (t1, c1) = inside[0], inside[-1]
        return (c1 - c0) / (t1 - t0)

    def end(self):
        self.process.kill()
        self.process.wait()


def cpu_seconds(pid):
    """CPU time of a running process's threads so far, to the nanosecond (schedstat;
    /proc/PID/stat counts in clock ticks, coarser than an attach)."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


def record(binary, target, blocking, rate, output):
    """One recording; its figures."""
    command = [binary, "record", "--pid", str(target.process.pid), "--rate", str(rate), "--duration", str(SECONDS),
               "-o", output, "--blocking" if blocking else "--nonblocking"]
    quiet_start = time.monotonic()
    time.sleep(SECONDS / 2)
    quiet_end = time.monotonic()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                             preexec_fn=ends_with_this_process())
    announced = {}
    lines = []

    def read_stderr():
        for line in child.stderr:
            if "pyprofd: sampling" in line and "at" not in announced:
                announced["at"], announced["cpu"] = time.monotonic(), cpu_seconds(child.pid)
                if SECONDS >= 2:
                    threading.Thread(target=read_settled_cpu, daemon=True).start()
            lines.append(line)

    settled = []  # (time, CPU) 1 s after the announcement and 0.25 s before the end

    def read_settled_cpu():
        for at in (announced["at"] + 1.0, announced["at"] + SECONDS - 0.25):
            time.sleep(max(0.0, at - time.monotonic()))
            cpu = cpu_seconds(child.pid)
            if cpu is None:
                return
            settled.append((time.monotonic(), cpu))

    reader = threading.Thread(target=read_stderr)
    reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    ended = time.monotonic()
    text = "".join(lines)
    m = re.search(r"Wrote .*: (\d+) samples, (\d+) errors(?:, behind schedule ([\d.]+)%)?", text)
    if child.returncode != 0 or not m or "at" not in announced:
        print("    record failed (exit %s): %s" % (child.returncode, text.strip()[-400:]), flush=True)
        return {}
    samples, errors = int(m.group(1)), int(m.group(2))
    cpu_total = usage.ru_utime + usage.ru_stime
    cpu_sampling = cpu_total - (announced["cpu"] or 0)
    after_start = time.monotonic()
    time.sleep(SECONDS / 2)
    after = target.throughput(after_start, time.monotonic())
    before = target.throughput(quiet_start, quiet_end)
    quiet = (before + after) / 2 if before and after else None
    # The recording's window: from its announcement to the end of its duration.
    during = target.throughput(announced["at"] + 0.25, min(ended, announced["at"] + SECONDS))
    settled_us = None
    if len(settled) == 2 and samples:
        (t1, c1), (t2, c2) = settled
        due = samples / SECONDS * (t2 - t1)  # at the rate this run kept
        settled_us = 1e6 * (c2 - c1) / due if due > 0 else None
    if samples == 0:  # say why (record gave up, say)
        print("    no samples: %s" % " | ".join(l.strip() for l in lines[-3:]), flush=True)
    return {
        "on_schedule": 100.0 * samples / (rate * SECONDS),
        "behind": float(m.group(3)) if m.group(3) else None,
        "cpu_us": 1e6 * cpu_sampling / samples if samples else None,
        "cpu_total_us": 1e6 * cpu_total / samples if samples else None,
        "cpu_settled_us": settled_us,
        "attach_ms": 1e3 * (announced["cpu"] or 0),
        "throughput": 100.0 * during / quiet if during is not None and quiet else None,
        "samples": samples,
        "errors": errors,
        "errors_per_1k": 1000.0 * errors / samples if samples else None,
    }


FIGURES = (
    ("on_schedule", "samples on schedule (%)", "%.1f"),
    ("behind", "record's 'behind schedule' (%)", "%.1f"),
    ("cpu_us", "CPU per sample after attach (µs)", "%.0f"),
    ("cpu_total_us", "CPU per sample with attach (µs)", "%.0f"),
    ("cpu_settled_us", "CPU per sample once settled (µs)", "%.0f"),
    ("attach_ms", "CPU to attach (ms)", "%.1f"),
    ("throughput", "target throughput, % of without", "%.1f"),
    ("samples", "samples", "%.0f"),
    ("errors", "errors (failed samples + thread errors)", "%.0f"),
    ("errors_per_1k", "errors per 1,000 samples", "%.2f"),
)


def main():
    finish_on_termination()  # a kill ends the bench through its finally blocks
    work = tempfile.mkdtemp(prefix="pyprofd-many-threads-")
    print("160-thread target (156 parked, 4 busy), pyprofd record --pid, %g s per run, %d rounds, baseline and new in "
          "turns\n  baseline: %s\n  new:      %s\n" % (SECONDS, ROUNDS, BASELINE, NEW), flush=True)
    try:
        for python in interpreters():
            target = Target(python)
            try:
                version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                                         text=True).stdout.strip()
                time.sleep(1)
                for mode, rate in MODES:
                    def run(binary, label, round_):
                        r = record(binary, target, mode == "blocking", rate, os.path.join(work, "out.folded"))
                        print("    %s round %d: %s" % (label, round_, ", ".join(
                            "%s %s" % (k, "%.1f" % v if isinstance(v, float) else v) for k, v in r.items())), flush=True)
                        return r
                    print("%s (%s), %s, %d Hz:" % (python, version, mode, rate), flush=True)
                    results = alternate(BASELINE, NEW, ROUNDS, run)
                    print_table("  median of %d:" % ROUNDS, results, FIGURES)
                    for label in ("baseline", "new"):
                        spread = mean_and_interval(results[label], "throughput")
                        if spread:
                            print("  %s: target throughput %.1f%% of without, 95%% interval %.1f-%.1f%% (%d rounds)"
                                  % (label, spread[0], spread[0] - spread[1], spread[0] + spread[1], spread[2]))
                    print(flush=True)
            finally:
                target.end()
    finally:
        subprocess.run(["rm", "-rf", work])
    return 0


if __name__ == "__main__":
    sys.exit(main())
