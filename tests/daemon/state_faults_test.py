#!/usr/bin/env python3
"""The state directory failing under the daemon: full (a small tmpfs) and then
read-only. Sessions go on and are served from memory with a save_error that says
why; nothing saved before is lost or corrupted; once the directory can be written
again the unsaved results are saved, and a restart finds them all.

Needs root (it mounts a tmpfs). Usage: state_faults_test.py PYPROFD_BINARY SOURCE_DIR
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
PYTHON = "/usr/bin/python3.11" if os.path.exists("/usr/bin/python3.11") else sys.executable
TARGET = os.path.join(SOURCE, "tests/targets/heavy_light.py")
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


class Daemon:
    def __init__(self, state, log_path):
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen([PYPROFD, "serve", "--listen", "127.0.0.1:0", "--state-dir", state,
                                             "--config", os.path.join(os.path.dirname(log_path), "fast.yaml")],
                                            stdout=log, stderr=log)
        self.port = None
        for _ in range(200):
            with open(log_path) as f:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError(open(log_path).read())

    def call(self, method, path, body=None):
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                data = r.read()
                return r.status, json.loads(data) if r.headers.get_content_type().endswith("json") else data
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def session(self, target_pid, seconds=0.5):
        status, s = self.call("POST", "/sessions", {"pid": target_pid, "rate_hz": 200, "duration_s": seconds})
        assert status == 201, (status, s)
        for _ in range(200):
            status, s = self.call("GET", "/sessions/" + s["id"])
            if s["state"] != "running":
                return s
            time.sleep(0.05)
        return s


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
        daemon = Daemon(state, os.path.join(work, "daemon1.log"))
        saved = daemon.session(target.pid)
        check(saved["state"] == "completed" and "save_error" not in saved, "a session is saved while there is room")
        saved_files = {name: open(os.path.join(state, "sessions", name), "rb").read()
                       for name in os.listdir(os.path.join(state, "sessions"))}

        # Full: fill the file system to the last block.
        run(["dd", "if=/dev/zero", "of=" + os.path.join(state, "filler"), "bs=4k"])
        full = daemon.session(target.pid)
        check(full["state"] == "completed" and "No space left on device" in full.get("save_error", ""),
              "on a full disk the session completes and says why it is not saved: %r" % full.get("save_error"))
        status, folded = daemon.call("GET", "/sessions/%s/folded" % full["id"])
        check(status == 200 and b"heavy (" in folded, "its results are served from memory")
        status, _ = daemon.call("GET", "/healthz")
        check(status == 200, "the daemon keeps serving")
        for name, content in saved_files.items():
            path = os.path.join(state, "sessions", name)
            check(os.path.exists(path) and open(path, "rb").read() == content, "%s, saved before, is intact" % name)
        check(not [n for n in os.listdir(os.path.join(state, "sessions")) if ".tmp-" in n],
              "no half-written temporary file is left behind")

        # Room again: the unsaved session is saved within a few checkpoints.
        os.unlink(os.path.join(state, "filler"))
        for _ in range(60):
            _, again = daemon.call("GET", "/sessions/" + full["id"])
            if "save_error" not in again:
                break
            time.sleep(0.1)
        check("save_error" not in again and os.path.exists(os.path.join(state, "sessions", full["id"] + ".folded")),
              "with room again, it is saved")

        # Read-only.
        check(run(["mount", "-o", "remount,ro", state]).returncode == 0, "the state remounted read-only")
        readonly = daemon.session(target.pid)
        check("Read-only file system" in readonly.get("save_error", ""),
              "on a read-only state the session says so: %r" % readonly.get("save_error"))
        status, svg = daemon.call("GET", "/sessions/%s/flame.svg" % readonly["id"])
        check(status == 200 and b"heavy (" in svg, "and is served from memory")
        run(["mount", "-o", "remount,rw", state])
        for _ in range(60):
            _, again = daemon.call("GET", "/sessions/" + readonly["id"])
            if "save_error" not in again:
                break
            time.sleep(0.1)
        check("save_error" not in again, "writable again: saved")

        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        daemon = Daemon(state, os.path.join(work, "daemon2.log"))
        _, listed = daemon.call("GET", "/sessions")
        states = {s["id"]: (s["state"], s["samples"]) for s in listed["sessions"]}
        check(states == {saved["id"]: ("completed", saved["samples"]), full["id"]: ("completed", full["samples"]),
                         readonly["id"]: ("completed", readonly["samples"])},
              "after a restart, all three sessions are there, whole: %s" % states)

        # Starting on a read-only state: it runs, says so, and keeps results in memory.
        daemon.process.send_signal(signal.SIGTERM)
        daemon.process.wait(10)
        run(["mount", "-o", "remount,ro", state])
        daemon = Daemon(state, os.path.join(work, "daemon3.log"))
        with open(daemon.log_path) as f:
            log = f.read()
        check("results are kept in memory, and saved once it can be written" in log,
              "starting on a read-only state: a clear error, and it runs")
        status, _ = daemon.call("GET", "/sessions")
        check(status == 200, "and serves the saved sessions")
    finally:
        if daemon:
            daemon.process.kill()
            daemon.process.wait()
        target.kill()
        run(["umount", state])
        run(["rm", "-rf", work])
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
