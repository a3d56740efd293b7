#!/usr/bin/env python3
"""The pull endpoint, GET /debug/pprof/profile?pid=PID&seconds=N, with a real daemon and
Debian's Go (golang-go): `go tool pprof -top URL` fetches a 2-second profile of a Python
target burning CPU in a named function, and shows that function, and its `<module>`
frame by that name (never `<unknown>`). The pull is recorded as a session named
"pprof pull"; its errors are those of sessions, naming the query parameter (a bad pid,
seconds past limits.max_duration_s, a caller who may not profile the process, a process
that is not Python); its answer is what Go's net/http/pprof answers (Content-Type,
Content-Disposition). While pulls wait, the daemon answers others at once (the wait
holds no io thread), and a client that goes away stops its session.

go writes nothing outside this test's temporary directory: HOME, GOCACHE, GOPATH and
PPROF_TMPDIR (where go tool pprof saves what it fetched, ~/pprof by default) point
into it. Without go the pprof part is skipped locally, and said so; under CI (CI set)
it fails.

Usage: pprof_pull_test.py PYPROFD_BINARY SOURCE_DIR
"""
import gzip
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_contract import CheckedDaemon, Contract  # noqa: E402
from daemon_support import PYTHON, call, check, report  # noqa: E402

NOBODY = 65534
IN_CI = bool(os.environ.get("CI"))

# A target that burns CPU in one named function, called from its module's top level
# (so that its stacks hold a <module> frame too).
TARGET = """
import sys
def burn_cpu_in_pull_target():
    x = 0
    for i in range(200000):
        x += i * i
    return x
print("ready", flush=True)
while True:
    burn_cpu_in_pull_target()
"""


class Daemon(CheckedDaemon):
    contract = Contract(os.path.join(SOURCE, "openapi.yaml"))


def missing(what):
    """Locally a missing tool is skipped, and said so; in CI it fails."""
    if IN_CI:
        check(False, "MISSING in CI: " + what)
    else:
        print("SKIP " + what, flush=True)


def start_target(work):
    path = os.path.join(work, "pull_target.py")
    with open(path, "w") as f:
        f.write(TARGET)
    target = subprocess.Popen([PYTHON, path], stdout=subprocess.PIPE)
    target.stdout.readline()  # "ready": its interpreter runs
    return target


def pull_path(pid, seconds, extra=""):
    return "/debug/pprof/profile?pid=%d&seconds=%d%s" % (pid, seconds, extra)


def check_go_tool_pprof(work, daemon, target):
    go = shutil.which("go")
    if not go:
        return missing("go (Debian's golang-go, scripts/deps-test.txt): go tool pprof is not tested")
    env = dict(os.environ)
    for name, folder in (("HOME", "home"), ("GOCACHE", "gocache"), ("GOPATH", "gopath"), ("PPROF_TMPDIR", "pprof")):
        env[name] = os.path.join(work, folder)
        os.makedirs(env[name], exist_ok=True)
    env.pop("GOFLAGS", None)
    url = "http://127.0.0.1:%d%s" % (daemon.port, pull_path(target.pid, 2))
    started = time.time()
    done = subprocess.run([go, "tool", "pprof", "-top", url], capture_output=True, text=True, timeout=120, env=env,
                          cwd=work)
    took = time.time() - started
    out = done.stdout + done.stderr
    print(out, flush=True)
    check(done.returncode == 0, "go tool pprof -top %s exits 0: %d" % (url, done.returncode))
    check("burn_cpu_in_pull_target" in done.stdout, "go tool pprof names the target's function")
    check("<module>" in done.stdout, "go tool pprof names the <module> frame as <module>")
    check("<unknown>" not in out, "go tool pprof shows no <unknown> function")
    check(took >= 2, "the pull took its 2 seconds: %.1f s" % took)
    saved = os.listdir(env["PPROF_TMPDIR"])
    check(len(saved) == 1 and saved[0].endswith(".pb.gz"),
          "go tool pprof saved the profile where PPROF_TMPDIR says, and nowhere else: %s" % saved)


def check_pull_answer(daemon, target):
    status, headers, body = daemon.request("GET", pull_path(target.pid, 1, "&rate_hz=200"))
    check(status == 200, "a pull of 1 s answers 200: %s" % status)
    check(headers.get("Content-Type") == "application/octet-stream",
          "as Go's net/http/pprof: Content-Type application/octet-stream: %s" % headers.get("Content-Type"))
    check(headers.get("Content-Disposition") == 'attachment; filename="profile"',
          "as Go's: Content-Disposition names the file profile: %s" % headers.get("Content-Disposition"))
    message = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else b""
    check(b"burn_cpu_in_pull_target" in message, "the answer is a gzip'd profile with the target's function")
    status, _, page = daemon.request("GET", "/sessions?limit=1000")
    pulls = [s for s in page.get("sessions", []) if s.get("name") == "pprof pull" and s.get("target", {}).get("pid") == target.pid]
    check(status == 200 and len(pulls) >= 1, "each pull is listed as a session named 'pprof pull': %d" % len(pulls))
    check(all(s["state"] == "completed" for s in pulls), "pulls that ran their seconds are completed: %s" %
          [s["state"] for s in pulls])
    check(any(s["options"]["rate_hz"] == 200 and s["options"]["duration_s"] == 1 for s in pulls),
          "the pull's session has its rate_hz and seconds as duration_s")


def check_errors(daemon, target, work):
    def problem(path, expected_status, field, what, user=None):
        if user is None:
            status, headers, body = daemon.request("GET", path)
        else:
            status, headers, body = call("127.0.0.1:%d" % daemon.port, "GET", path, user=user)
        ok = (status == expected_status and headers.get("Content-Type", "").startswith("application/problem+json")
              and (field is None or body.get("field") == field))
        check(ok, "%s: %d problem+json naming %s: %s %s" % (what, expected_status, field, status, body))
        return body

    problem("/debug/pprof/profile?seconds=1", 400, "pid", "no pid")
    problem("/debug/pprof/profile?pid=abc&seconds=1", 400, "pid", "a pid that is not a number")
    problem("/debug/pprof/profile?pid=0&seconds=1", 400, "pid", "pid 0")
    body = problem(pull_path(target.pid, 3601), 400, "seconds", "seconds past limits.max_duration_s (3600)")
    check("3600" in body.get("detail", ""), "the detail says the limit: %s" % body.get("detail"))
    problem(pull_path(target.pid, 0), 400, "seconds", "seconds 0")
    problem(pull_path(target.pid, 1, "&rate_hz=0"), 400, "rate_hz", "rate_hz 0, out of the sessions' bounds")
    problem(pull_path(target.pid, 1, "&rate_hz=fast"), 400, "rate_hz", "rate_hz that is not a number")
    problem(pull_path(target.pid, 1, "&second=5"), 400, "second", "an unknown parameter (a misspelt seconds)")
    # A pid no process has: one that was a child of ours, reaped.
    gone = subprocess.Popen(["true"])
    gone.wait()
    problem(pull_path(gone.pid, 1), 404, "pid", "a process that does not exist")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        problem(pull_path(sleeper.pid, 1), 422, "pid", "a process that is not Python")
    finally:
        sleeper.kill()
        sleeper.wait()
    body = problem(pull_path(target.pid, 1), 403, "pid", "nobody pulls a profile of root's process", user=NOBODY)
    check("uid 65534 (nobody)" in body.get("detail", ""), "and is told why: %s" % body.get("detail"))


def check_no_io_thread_waits(daemon, target):
    """Five pulls wait at once (the daemon has four io threads); /healthz is answered at once
    meanwhile. A handler that waited on its io thread would leave none to answer it."""
    results = []

    def pull():
        results.append(daemon.request("GET", pull_path(target.pid, 3))[0])

    pulls = [threading.Thread(target=pull) for _ in range(5)]
    for t in pulls:
        t.start()
    time.sleep(1)  # all five are waiting now
    slowest = 0
    for _ in range(5):
        started = time.time()
        status, _, _ = daemon.request("GET", "/healthz")
        slowest = max(slowest, time.time() - started)
        check(status == 200, "/healthz answers while five pulls wait")
    check(slowest < 0.5, "and at once: the slowest took %.3f s" % slowest)
    for t in pulls:
        t.join()
    check(results == [200] * 5, "the five pulls all got their profile: %s" % results)


def check_client_going_away(daemon, target):
    """A client that goes away before its pull ends: its session is stopped, not left to
    run its 60 seconds."""
    before = time.time()
    client = socket.create_connection(("127.0.0.1", daemon.port))
    client.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % pull_path(target.pid, 60)).encode())
    session = None
    deadline = time.time() + 10
    while session is None and time.time() < deadline:
        _, _, page = daemon.request("GET", "/sessions?state=running")
        session = next((s for s in page["sessions"] if s["name"] == "pprof pull"), None)
        time.sleep(0.1)
    check(session is not None, "the pull's session runs")
    client.close()
    if session is None:
        return
    state = None
    deadline = time.time() + 10
    while time.time() < deadline:
        _, _, s = daemon.request("GET", "/sessions/" + session["id"])
        state = s["state"]
        if state != "running":
            break
        time.sleep(0.1)
    check(state == "stopped" and time.time() - before < 20,
          "the client went away: its session is stopped (%s after %.1f s), not run to its 60 s" % (state, time.time() - before))
    check("went away before the response" in daemon.log(), "the log says the client went away")
    status, _, _ = daemon.request("GET", "/healthz")
    check(status == 200, "the daemon goes on answering")


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-pull-test-")
    os.chmod(work, 0o755)
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    target = start_target(work)
    try:
        check_pull_answer(daemon, target)
        check_go_tool_pprof(work, daemon, target)
        check_errors(daemon, target, work)
        check_no_io_thread_waits(daemon, target)
        check_client_going_away(daemon, target)
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
