#!/usr/bin/env python3
"""A target that makes fresh stacks of fresh names without end cannot take the host.
The target (running as nobody) runs call chains 500 deep whose functions have fresh
names 4,000 characters long; a real daemon samples it at 100 Hz for 15 s under the
documented default limits (limits.max_profile_*; on a build too slow to reach one in
15 s, such as ASan's, until it does). The session says it was truncated;
the daemon's memory (VmHWM), its state directory and its flame graph stay within
bounds set by those limits; once capped, checkpoints append a little instead of
writing the whole profile each time; /folded holds at most max_profile_stacks lines and one
[truncated] line; the session reloads after a SIGKILL. Then, under a small
retention.max_disk_mb, a running session's checkpoints count against the disk limit:
an older finished session is removed while it runs. Last, with limits far above
what the daemon's address space allows (prlimit --as), an allocation that fails
ends that session as failed, and the daemon goes on serving and sampling.

Prints the figures it measured (peak RSS, state directory, flame graph size and time).

Usage: profile_limits_test.py PYPROFD_BINARY SOURCE_DIR
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, folded_stacks, readable_copy, report, wait_for_state  # noqa: E402

FRESH = os.path.join(SOURCE, "tests/targets/fresh_names.py")
STEADY = os.path.join(SOURCE, "tests/targets/heavy_light.py")
MIB = 1 << 20
# The documented defaults (systemd/pyprofd.yaml), which the first daemon runs with.
MAX_STACKS = 100000
MAX_LABEL_BYTES = 64 * MIB
# Generous bounds that the limits imply: the profile's text at most twice over
# (the profile and a snapshot of it), with what a graph and a checkpoint add. On
# disk, a checkpoint appends, and is written whole again (beside the one before it,
# then replacing it) once what it appended passes what it wrote whole.
MAX_RSS = 512 * MIB
MAX_STATE = 3 * MAX_LABEL_BYTES + 4 * MIB
MAX_GRAPH = 2 * MAX_LABEL_BYTES


SANITIZED = "libasan" in subprocess.run(["ldd", PYPROFD], capture_output=True, text=True).stdout


def rss_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    return int(m.group(1)) if m else 0


def bytes_written(pid):
    """What a process has written with write() and its kind so far (/proc/PID/io's wchar)."""
    with open("/proc/%d/io" % pid) as f:
        return int(re.search(r"^wchar:\s+(\d+)", f.read(), re.M).group(1))


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


# Every target this test started, ended by main() whatever fails on the way (a
# daemon that does not start, say), so none outlives the test.
STARTED = []


def start_target(script, *args):
    target = subprocess.Popen([PYTHON, readable_copy(script)] + list(args), stdout=subprocess.PIPE, user=65534,
                              group=65534, extra_groups=[], cwd="/")
    STARTED.append(target)
    line = target.stdout.readline().strip()
    if not line:
        raise RuntimeError("the target did not start")
    return target


def fresh_names_under_default_limits(work):
    state = os.path.join(work, "state")
    with open(os.path.join(work, "defaults.yaml"), "w") as f:
        f.write("checkpoint_interval_s: 1\n")
    target = start_target(FRESH, "500", "4000")
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state, "--config",
                              os.path.join(work, "defaults.yaml")], os.path.join(work, "daemon1.log"))
    try:
        # 15 s, and on a slow build (ASan) on until the profile reaches a limit.
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 180})
        check(status == 201, "a session on the fresh-names target starts: %s" % status)
        peak_state = 0
        capped_writes = None
        started = time.monotonic()
        while True:
            peak_state = max(peak_state, tree_bytes(state))
            _, _, now = daemon.request("GET", "/sessions/" + s["id"])
            if now["state"] != "running":
                break
            if time.monotonic() - started >= 15 and "truncated" in now:
                # Capped, it goes on sampling: its checkpoints now append a line or
                # two each, instead of writing the whole profile again.
                written = bytes_written(daemon.process.pid)
                time.sleep(3.5)
                capped_writes = bytes_written(daemon.process.pid) - written
                daemon.request("POST", "/sessions/%s/stop" % s["id"])
            time.sleep(0.5)
        check(now["state"] == "stopped" and now["samples"] > 0,
              "it runs 15 s or more, until stopped: %s, %d samples" % (now["state"], now["samples"]))
        truncated = now.get("truncated", {})
        check(truncated.get("samples", 0) > 0 and truncated.get("limit", "").startswith("limits.max_profile_"),
              "the session says its profile was truncated, and by which limit: %r" % truncated)

        started = time.monotonic()
        status, _, svg = daemon.request("GET", "/sessions/%s/flame.svg" % s["id"], raw=True)
        graph_s = time.monotonic() - started
        check(status == 200 and b"[truncated]" in svg and b"under [truncated]" in svg,
              "the flame graph shows the [truncated] frame, and its subtitle says why")
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % s["id"], raw=True)
        lines = folded_stacks(folded.decode("utf-8"))  # without the header's few lines of metadata
        stack_bytes = sum(len(line.encode("utf-8")) + 1 for line in lines)
        check(len(lines) <= MAX_STACKS + 1 and stack_bytes <= MAX_LABEL_BYTES + 64,
              "/folded holds at most max_profile_stacks lines and max_profile_label_mb of text (%d lines, %.1f MiB)" %
              (len(lines), len(folded) / MIB))
        check(lines and re.fullmatch(r"\[truncated\] \d+", lines[-1]) is not None and
              int(lines[-1].split()[1]) == truncated.get("samples"),
              "its last line counts the truncated samples: %r" % (lines[-1][:60] if lines else None))
        check(capped_writes is not None and capped_writes < MIB,
              "once capped, 3.5 s of checkpoints (one a second) write under 1 MiB, not the profile again each time "
              "(%.1f MiB; the profile is %.1f MiB)" % ((capped_writes or 0) / MIB, len(folded) / MIB))
        peak_rss = rss_kib(daemon.process.pid, "VmHWM") * 1024
        peak_state = max(peak_state, tree_bytes(state))
        print("figures: %d samples (%d under [truncated], by %s); daemon peak RSS %.0f MiB, now %.0f MiB; state "
              "directory at most %.1f MiB; flame.svg %.1f MiB in %.2f s; /folded %.1f MiB, %d lines" %
              (now["samples"], truncated.get("samples", 0), truncated.get("limit"), peak_rss / MIB,
               rss_kib(daemon.process.pid, "VmRSS") / 1024, peak_state / MIB, len(svg) / MIB, graph_s,
               len(folded) / MIB, len(lines)), flush=True)
        # AddressSanitizer's shadow memory and quarantine come on top.
        max_rss = MAX_RSS * (3 if SANITIZED else 1)
        check(peak_rss <= max_rss, "the daemon's peak RSS stays within %d MiB (%.0f MiB)" % (max_rss // MIB, peak_rss / MIB))
        check(peak_state <= MAX_STATE,
              "the state directory stays within %d MiB, checkpoints included (%.1f MiB)" % (MAX_STATE // MIB, peak_state / MIB))
        check(len(svg) <= MAX_GRAPH, "the flame graph stays within %d MiB (%.1f MiB)" % (MAX_GRAPH // MIB, len(svg) / MIB))

        # Killed and started again: the saved profile reloads, the same.
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state, "--config",
                                  os.path.join(work, "defaults.yaml")], os.path.join(work, "daemon2.log"))
        status, _, again = daemon.request("GET", "/sessions/%s/folded" % s["id"], raw=True)
        check(status == 200 and again == folded, "after a restart the session's folded stacks are the same")
        _, _, reloaded = daemon.request("GET", "/sessions/" + s["id"])
        check(reloaded.get("truncated") == truncated, "and it still says it was truncated")
    finally:
        daemon.process.kill()
        daemon.process.wait()
        target.kill()
        target.wait()


def retention_counts_running_sessions(work):
    state = os.path.join(work, "state2")
    with open(os.path.join(work, "small.yaml"), "w") as f:
        f.write("checkpoint_interval_s: 0.5\nretention: {max_disk_mb: 1}\nlimits: {max_profile_label_mb: 2}\n")
    steady = start_target(STEADY)
    fresh = start_target(FRESH, "50", "1000")
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state, "--config",
                              os.path.join(work, "small.yaml")], os.path.join(work, "daemon3.log"))
    try:
        finished = []
        for _ in range(2):
            status, _, s = daemon.request("POST", "/sessions", {"pid": steady.pid, "rate_hz": 100, "duration_s": 0.3})
            finished.append(wait_for_state(daemon, s["id"], {"completed"})["id"])
        status, _, running = daemon.request("POST", "/sessions", {"pid": fresh.pid, "rate_hz": 100, "duration_s": 30})
        check(status == 201, "a session on a fresh-names target starts, with two small finished ones before it")
        removed_while_running = False
        deadline = time.time() + 20
        while time.time() < deadline:
            _, _, listed = daemon.request("GET", "/sessions")
            states = {x["id"]: x["state"] for x in listed["sessions"]}
            if finished[0] not in states:
                removed_while_running = states.get(running["id"]) == "running"
                break
            time.sleep(0.25)
        check(removed_while_running,
              "the running session's checkpoints count against retention.max_disk_mb: the oldest finished session "
              "is removed while it runs")
        check(finished[1] in states, "the newest finished session stays")
        daemon.request("POST", "/sessions/%s/stop" % running["id"])
    finally:
        daemon.process.kill()
        daemon.process.wait()
        steady.kill()
        fresh.kill()
        steady.wait()
        fresh.wait()


def allocation_failure_ends_one_session(work):
    if SANITIZED:
        print("skipped: an allocation failure under an address-space limit (ASan needs far more address space)")
        return
    state = os.path.join(work, "state3")
    with open(os.path.join(work, "huge.yaml"), "w") as f:
        f.write("checkpoint_interval_s: 1\n"
                "limits: {max_profile_stacks: 100000000, max_profile_frames: 1000000000, max_profile_label_mb: 1048576}\n")
    fresh = start_target(FRESH, "500", "4000")
    steady = start_target(STEADY)
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state, "--config",
                              os.path.join(work, "huge.yaml")], os.path.join(work, "daemon4.log"),
                    prefix=["prlimit", "--as=%d" % (550 * MIB), "--"])
    try:
        status, _, s = daemon.request("POST", "/sessions", {"pid": fresh.pid, "rate_hz": 100, "duration_s": 120})
        check(status == 201, "a session without practical limits starts in a daemon of 550 MiB of address space")
        done = wait_for_state(daemon, s["id"], {"completed", "failed", "stopped", "target_exited"}, timeout=150)
        failure = (done or {}).get("failure", "")
        check(done and done["state"] == "failed" and ("out of memory" in failure or "bad_alloc" in failure),
              "when an allocation fails, that session ends as failed, saying why: %r" %
              ((done and (done["state"], failure)),))
        status, _, _ = daemon.request("GET", "/healthz")
        check(status == 200 and daemon.process.poll() is None, "the daemon goes on")
        # What it kept is its profile so far, taking what the address space had: gone
        # with the session, there is room for another.
        status, _, _ = daemon.request("DELETE", "/sessions/" + s["id"])
        check(status == 204, "it can be deleted")
        # Its files and memory go once its thread is done, joined on the checkpoint
        # thread within a checkpoint interval of the DELETE. A session started before
        # that may still find the address space full and fail the same way; one started
        # after it must sample.
        attempts = []
        other = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(1)
            status, _, started = daemon.request("POST", "/sessions",
                                                {"pid": steady.pid, "rate_hz": 100, "duration_s": 0.5})
            if status != 201:
                attempts.append(status)
                continue
            other = wait_for_state(daemon, started["id"], {"completed", "failed"})
            attempts.append(other and (other["state"], other.get("failure")))
            if other and other["state"] == "completed":
                break
            daemon.request("DELETE", "/sessions/" + started["id"])
        check(other and other["state"] == "completed" and other["samples"] > 0,
              "then it samples another process: %r (attempts: %r)" %
              ((other and (other.get("state"), other.get("samples"))), attempts))
    finally:
        daemon.process.kill()
        daemon.process.wait()
        fresh.kill()
        steady.kill()
        fresh.wait()
        steady.wait()


def main():
    if os.geteuid() != 0:
        print("FAIL this test runs its targets as nobody and needs root")
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-profile-limits-test-")
    try:
        fresh_names_under_default_limits(work)
        retention_counts_running_sessions(work)
        allocation_failure_ends_one_session(work)
    finally:
        for target in STARTED:
            if target.poll() is None:
                target.kill()
                target.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
