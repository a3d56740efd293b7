#!/usr/bin/env python3
"""The state directory failing under the daemon: full (a small tmpfs) and then
read-only. Sessions go on and are served from memory with a save_error that says
why; nothing saved before is lost or corrupted; once the directory can be written
again the unsaved results are saved, and a restart finds them all.

Needs root (it mounts a tmpfs). Usage: state_faults_test.py PYPROFD_BINARY SOURCE_DIR
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, report, wait_for_state  # noqa: E402

TARGET = os.path.join(SOURCE, "tests/targets/heavy_light.py")


def start_daemon(state, work, name):
    return Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state, "--config", os.path.join(work, "fast.yaml")],
                  os.path.join(work, name))


def profile(daemon, target_pid, seconds=0.5):
    """A finished session on the target."""
    status, _, s = daemon.request("POST", "/sessions", {"pid": target_pid, "rate_hz": 200, "duration_s": seconds})
    assert status == 201, (status, s)
    return wait_for_state(daemon, s["id"], {"completed", "stopped", "failed", "target_exited"})


def run(command):
    return subprocess.run(command, capture_output=True, text=True)


def main():
    if os.geteuid() != 0:
        print("FAIL this test mounts a tmpfs and needs root")
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-faults-test-")
    with open(os.path.join(work, "fast.yaml"), "w") as f:
        f.write("checkpoint_interval_s: 0.5\n")
    state = os.path.join(work, "state")
    os.makedirs(state)
    mounted = run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", state])
    if not check(mounted.returncode == 0, "a small tmpfs for the state: %s" % mounted.stderr.strip()):
        return 1
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()
    daemon = None
    try:
        daemon = start_daemon(state, work, "daemon1.log")
        saved = profile(daemon, target.pid)
        check(saved["state"] == "completed" and "save_error" not in saved, "a session is saved while there is room")
        saved_files = {name: open(os.path.join(state, "sessions", name), "rb").read()
                       for name in os.listdir(os.path.join(state, "sessions"))}

        # Full: fill the file system to the last block.
        run(["dd", "if=/dev/zero", "of=" + os.path.join(state, "filler"), "bs=4k"])
        full = profile(daemon, target.pid)
        check(full["state"] == "completed" and "No space left on device" in full.get("save_error", ""),
              "on a full disk the session completes and says why it is not saved: %r" % full.get("save_error"))
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % full["id"])
        check(status == 200 and b"heavy (" in folded, "its results are served from memory")
        status, _, _ = daemon.request("GET", "/healthz")
        check(status == 200, "the daemon keeps serving")
        for name, content in saved_files.items():
            path = os.path.join(state, "sessions", name)
            check(os.path.exists(path) and open(path, "rb").read() == content, "%s, saved before, is intact" % name)
        check(not [n for n in os.listdir(os.path.join(state, "sessions")) if ".tmp-" in n],
              "no half-written temporary file is left behind")

        # Room again: the unsaved session is saved within a few checkpoints.
        os.unlink(os.path.join(state, "filler"))
        for _ in range(60):
            _, _, again = daemon.request("GET", "/sessions/" + full["id"])
            if "save_error" not in again:
                break
            time.sleep(0.1)
        check("save_error" not in again and os.path.exists(os.path.join(state, "sessions", full["id"] + ".folded")),
              "with room again, it is saved")

        # Read-only.
        check(run(["mount", "-o", "remount,ro", state]).returncode == 0, "the state remounted read-only")
        readonly = profile(daemon, target.pid)
        check("Read-only file system" in readonly.get("save_error", ""),
              "on a read-only state the session says so: %r" % readonly.get("save_error"))
        status, _, svg = daemon.request("GET", "/sessions/%s/flame.svg" % readonly["id"])
        check(status == 200 and b"heavy (" in svg, "and is served from memory")
        run(["mount", "-o", "remount,rw", state])
        for _ in range(60):
            _, _, again = daemon.request("GET", "/sessions/" + readonly["id"])
            if "save_error" not in again:
                break
            time.sleep(0.1)
        check("save_error" not in again, "writable again: saved")

        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        daemon = start_daemon(state, work, "daemon2.log")
        _, _, listed = daemon.request("GET", "/sessions")
        states = {s["id"]: (s["state"], s["samples"]) for s in listed["sessions"]}
        check(states == {saved["id"]: ("completed", saved["samples"]), full["id"]: ("completed", full["samples"]),
                         readonly["id"]: ("completed", readonly["samples"])},
              "after a restart, all three sessions are there, whole: %s" % states)

        # Starting on a read-only state: it runs, says so, and keeps results in memory.
        daemon.process.send_signal(signal.SIGTERM)
        daemon.process.wait(10)
        run(["mount", "-o", "remount,ro", state])
        daemon = start_daemon(state, work, "daemon3.log")
        log = daemon.log()
        check("results are kept in memory, and saved once it can be written" in log,
              "starting on a read-only state: a clear error, and it runs")
        status, _, _ = daemon.request("GET", "/sessions")
        check(status == 200, "and serves the saved sessions")
    finally:
        if daemon:
            daemon.process.kill()
            daemon.process.wait()
        target.kill()
        run(["umount", state])
        run(["rm", "-rf", work])
    return report()


if __name__ == "__main__":
    sys.exit(main())
