#!/usr/bin/env python3
"""The daemon end to end: a real `pyprofd serve` on a free loopback port with a
temporary state directory, real Python targets, and a real HTTP client (the
standard library's http.client). Every response is checked against openapi.yaml:
its status must be listed for the operation, and a JSON body must match the
schema listed for it.

It covers the whole flow (POST, poll, every result format, stop, delete), the
limits and every error status, sessions running at once, a `command` session's
program gone after it ends, SIGTERM (sessions stopped and saved, exit 0), and
SIGKILL mid-session then a restart (finished sessions intact, the running one
`interrupted` with the samples of its last checkpoint).

Usage: daemon_api_test.py PYPROFD_BINARY SOURCE_DIR
Needs python3-yaml and python3-jsonschema (scripts/deps-test.txt).
"""
import gzip
import json
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
from daemon_support import PYTHON, check, folded_stacks, readable_copy, report, uid_of, wait_for_state  # noqa: E402
import daemon_support  # noqa: E402
from api_contract import CheckedDaemon, Contract  # noqa: E402

TARGET = os.path.join(SOURCE, "tests/targets/heavy_light.py")
# The same script where nobody (as whom launched programs and some targets run) can read it.
READABLE_TARGET = readable_copy(TARGET)
TOKEN = "daemon-api-test-token-0123456789"


def token_file(work):
    path = os.path.join(work, "admin.token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, 0o600)
    return path


CONTRACT = Contract(os.path.join(SOURCE, "openapi.yaml"))


class Daemon(CheckedDaemon):
    """The daemon with a configuration and a state directory, every response it gives
    checked against the contract."""
    contract = CONTRACT

    def __init__(self, state_dir, config):
        super().__init__(PYPROFD, ["--config", config, "--listen", "127.0.0.1:0", "--state-dir", state_dir],
                         os.path.join(os.path.dirname(state_dir), "daemon-%d.log" % time.time_ns()))


def process_exists(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def check_unix_socket_and_retention(work):
    """A daemon on a unix socket (mode 0666: every caller is identified) that keeps only the
    two newest finished sessions."""
    import socket
    state = os.path.join(work, "state-retention")
    config = os.path.join(work, "retention.yaml")
    sock = os.path.join(work, "api.sock")
    with open(config, "w") as f:
        f.write("listen: [\"unix:%s\", \"127.0.0.1:0\"]\nretention: {max_sessions: 2}\nlog: {format: json}\n" % sock)
    daemon = daemon_support.Daemon(PYPROFD, ["--config", config, "--state-dir", state], os.path.join(work, "retention.log"))
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()
    try:
        check(daemon.port is not None and oct(os.stat(sock).st_mode & 0o777) == "0o666",
              "listening on a unix socket too, mode 0666")
        client = socket.socket(socket.AF_UNIX)
        client.connect(sock)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = client.recv(4096)
            if not chunk:
                break
            reply += chunk
        client.close()
        check(reply.startswith(b"HTTP/1.1 200") and b'"ok"' in reply, "GET /healthz over the unix socket")
        ids = []
        for i in range(3):
            status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 0.3})
            ids.append(s["id"])
            wait_for_state(daemon, s["id"], {"completed"})
        time.sleep(0.2)
        status, _, listed = daemon.request("GET", "/sessions")
        kept = [s["id"] for s in listed["sessions"]]
        check(kept == [ids[2], ids[1]], "retention keeps the two newest finished sessions: %s of %s" % (kept, ids))
        check(not os.path.exists(os.path.join(state, "sessions", ids[0] + ".folded")), "and removes the oldest's files")
    finally:
        daemon.stop(signal.SIGTERM)
        target.kill()
    check(not os.path.exists(sock), "the socket file is removed at exit")
    with open(daemon.log_path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    check(all({"time_ms", "level", "message"} <= set(l) for l in lines) and
          any(l["message"].startswith("session=%s ended: completed" % ids[0]) for l in lines),
          "log format json: one object per line, with the session id in its events")


def check_retention_by_age(work):
    """retention.max_age_days: a finished session older than that goes when the next one ends."""
    state = os.path.join(work, "state-age")
    config = os.path.join(work, "age.yaml")
    with open(config, "w") as f:
        f.write("retention: {max_age_days: 0.00002}\n")  # 1.7 s
    daemon = Daemon(state, config)
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()
    try:
        _, _, first = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 0.2})
        wait_for_state(daemon, first["id"], {"completed"})
        time.sleep(2)
        _, _, second = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 0.2})
        wait_for_state(daemon, second["id"], {"completed"})
        time.sleep(0.2)
        _, _, listed = daemon.request("GET", "/sessions")
        check([s["id"] for s in listed["sessions"]] == [second["id"]],
              "retention by age removes the session older than max_age_days, keeps the new one")
    finally:
        daemon.stop(signal.SIGTERM)
        target.kill()


def check_target_policy(work):
    """targets: allowed users and executables, for pid sessions, the stacks endpoint and
    commands; an admin token's launched programs run as command_user."""
    state = os.path.join(work, "state-policy")
    config = os.path.join(work, "policy.yaml")
    with open(config, "w") as f:
        f.write('targets: {allowed_uids: [65534], allowed_executables: ["/usr/bin/python3*"], allow_commands: true, '
                'command_user: nobody}\n'
                'access: {tokens: [{name: ci, file: %s, role: admin}]}\n' % token_file(work))
    daemon = Daemon(state, config)
    as_root = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    as_nobody = subprocess.Popen([PYTHON, READABLE_TARGET], stdout=subprocess.PIPE, user=65534, group=65534, cwd="/")
    sleeper = subprocess.Popen(["sleep", "600"], user=65534, group=65534)
    as_root.stdout.readline()
    as_nobody.stdout.readline()
    try:
        status, _, p = daemon.request("POST", "/sessions", {"pid": as_root.pid, "duration_s": 1})
        check(status == 403 and p.get("field") == "pid" and "runs as uid 0, which targets.allowed_uids does not list" in p["detail"],
              "a root process when only uid 65534 is allowed: 403: %s" % p.get("detail"))
        status, _, p = daemon.request("GET", "/processes/%d/stacks" % as_root.pid)
        check(status == 403, "and its stacks: 403 too")
        status, _, p = daemon.request("POST", "/sessions", {"pid": sleeper.pid, "duration_s": 1})
        check(status == 403 and "runs /usr/bin/sleep, which no glob of targets.allowed_executables matches" in p["detail"],
              "an executable no glob matches: 403: %s" % p.get("detail"))
        status, _, s = daemon.request("POST", "/sessions", {"pid": as_nobody.pid, "rate_hz": 100, "duration_s": 0.5})
        check(status == 201, "an allowed user's allowed executable: 201")
        admin_token = {"Authorization": "Bearer " + TOKEN}
        status, _, p = daemon.request("POST", "/sessions", {"command": ["sleep", "1"], "duration_s": 1}, admin_token)
        check(status == 403 and p.get("field") == "command", "a command no glob matches: 403")
        status, _, p = daemon.request("POST", "/sessions", {"command": [PYTHON, READABLE_TARGET], "duration_s": 1})
        check(status == 403 and "the command (as root) runs as uid 0, which targets.allowed_uids does not list" in p["detail"],
              "root's command would run as root, which allowed_uids does not list: 403: %s" % p.get("detail"))
        status, _, s = daemon.request("POST", "/sessions", {"command": [PYTHON, READABLE_TARGET], "rate_hz": 100, "duration_s": 3},
                                      admin_token)
        check(status == 201, "an allowed command of an admin token: 201")
        launched = None
        for _ in range(100):
            _, _, s2 = daemon.request("GET", "/sessions/" + s["id"], None, admin_token)
            if s2["samples"] > 0:
                launched = s2["target"]["pid"]
                break
            time.sleep(0.05)
        check(launched is not None and uid_of(launched) == 65534,
              "an admin token's launched program runs as command_user, nobody (uid %s)" % (launched and uid_of(launched)))
        daemon.request("POST", "/sessions/%s/stop" % s["id"], None, admin_token)
    finally:
        daemon.stop(signal.SIGTERM)
        for p in (as_root, as_nobody, sleeper):
            p.kill()
    config = os.path.join(work, "bad-user.yaml")
    with open(config, "w") as f:
        f.write("targets: {command_user: no-such-user-xyz}\n")
    result = subprocess.run([PYPROFD, "serve", "--config", config, "--listen", "127.0.0.1:0", "--state-dir", state],
                            capture_output=True, text=True, timeout=20)
    check(result.returncode == 2 and "targets.command_user: no user 'no-such-user-xyz' on this host" in result.stderr,
          "an unknown command_user: exit 2 naming it")


def check_blocking_sessions(work):
    """Blocking sessions pause the target with ptrace, which allows one tracer: a second
    blocking session of a process, or one of a process a debugger holds, is refused
    with 409 and why; non-blocking sessions of it are fine."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000
    state = os.path.join(work, "state-blocking")
    config = os.path.join(work, "blocking.yaml")
    with open(config, "w") as f:
        f.write("limits: {max_duration_s: 60}\n")
    daemon = Daemon(state, config)
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()
    try:
        status, _, first = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 30,
                                                                "blocking": True})
        check(status == 201, "a blocking session starts (%s)" % status)
        status, _, p = daemon.request("POST", "/sessions", {"pid": target.pid, "duration_s": 1, "blocking": True})
        check(status == 409 and p.get("field") == "blocking" and
              ("already sampled in blocking mode by session %s" % first["id"]) in p.get("detail", ""),
              "a second blocking session of the process: 409 naming the first: %s" % p.get("detail"))
        status, _, other = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 0.5})
        check(status == 201, "a non-blocking session of it meanwhile: 201")
        done = wait_for_state(daemon, other["id"], {"completed"})
        check(done and done["samples"] > 25 and done["errors"]["failed_samples"] == 0,
              "and it samples without failing: %s" % ((done and (done["samples"], done["errors"])),))
        status, _, stopped = daemon.request("POST", "/sessions/%s/stop" % first["id"])
        check(status == 200 and stopped["samples"] > 25 and stopped["errors"]["failed_samples"] == 0,
              "the blocking session kept sampling: %s" % ((stopped.get("samples"), stopped.get("errors")),))

        check(libc.ptrace(PTRACE_SEIZE, target.pid, None, None) == 0, "this test traces the target, as gdb would")
        try:
            status, _, p = daemon.request("POST", "/sessions", {"pid": target.pid, "duration_s": 1, "blocking": True})
            check(status == 409 and ("is traced by process %d" % os.getpid()) in p.get("detail", ""),
                  "a blocking session of a process another tracer holds: 409 naming it: %s" % p.get("detail"))
        finally:
            libc.ptrace(PTRACE_INTERRUPT, target.pid, None, None)
            os.waitpid(target.pid, WALL)
            libc.ptrace(PTRACE_DETACH, target.pid, None, None)
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "duration_s": 0.3, "blocking": True})
        check(status == 201, "once it is let go, a blocking session starts again (%s)" % status)
        wait_for_state(daemon, s["id"], {"completed"})
    finally:
        daemon.stop(signal.SIGTERM)
        target.kill()


def check_bad_configuration(work):
    config = os.path.join(work, "bad.yaml")
    with open(config, "w") as f:
        f.write("limits:\n  max_rate_hz: 0\n")
    result = subprocess.run([PYPROFD, "serve", "--config", config], capture_output=True, text=True, timeout=20)
    check(result.returncode == 2 and "bad.yaml:2: limits.max_rate_hz: must be between 1 and 100000, not 0" in result.stderr,
          "a bad configuration: exit 2 naming file, line and key: %r" % result.stderr.strip())
    result = subprocess.run([PYPROFD, "serve", "--listen", "nowhere"], capture_output=True, text=True, timeout=20)
    check(result.returncode == 2 and "--listen" in result.stderr, "a bad --listen: exit 2: %r" % result.stderr.strip())


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-daemon-test-")
    state = os.path.join(work, "state")
    config = os.path.join(work, "pyprofd.yaml")
    with open(config, "w") as f:
        f.write("checkpoint_interval_s: 0.5\nlimits: {max_running_sessions: 8, max_request_body_bytes: 2048, "
                "max_duration_s: 120}\ntargets: {allow_commands: true}\n")
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()  # READY
    sleeper = subprocess.Popen(["sleep", "600"])
    daemon = None
    try:
        daemon = Daemon(state, config)
        status, _, body = daemon.request("GET", "/healthz")
        check(status == 200 and body == {"status": "ok"}, "GET /healthz")
        status, headers, body = daemon.request("GET", "/openapi.yaml", raw=True)
        with open(os.path.join(SOURCE, "openapi.yaml"), "rb") as f:
            check(status == 200 and body == f.read(), "GET /openapi.yaml serves the contract itself")

        # The flow: start, poll, every format.
        status, headers, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 200, "duration_s": 2,
                                                                  "name": "heavy & light"})
        check(status == 201, "POST /sessions: 201 (%s)" % status)
        sid = s["id"]
        check(headers.get("Location") == "/sessions/" + sid, "Location names the session")
        check(s["state"] == "running" and s["target"]["pid"] == target.pid and s["target"]["python_version"].startswith("3.11"),
              "the session names its target and Python version")
        time.sleep(0.7)
        status, _, running = daemon.request("GET", "/sessions/" + sid)
        check(status == 200 and running["state"] == "running" and running["samples"] > 0 and
              running["samples"] <= running["samples_expected"] <= 200 * 2,
              "while it runs, the samples expected so far are reported with the samples: %s of %s" %
              (running.get("samples"), running.get("samples_expected")))
        status, _, svg = daemon.request("GET", "/sessions/%s/flame.svg" % sid, raw=True)
        check(status == 200 and b"heavy (" in svg and b"still running" in svg, "a running session's graph: a snapshot so far")
        done = wait_for_state(daemon, sid, {"completed"})
        check(done is not None, "the session completes after its duration")
        check(done and 300 <= done["samples"] <= 410, "about 400 samples in 2 s at 200 Hz: %s" % (done and done["samples"]))
        check(done and done["samples_expected"] >= done["samples"], "samples expected are reported")
        check(done and len(done["threads_seen"]) == 1 and done["threads_seen"][0]["name"] == "MainThread",
              "threads seen: %s" % (done and done["threads_seen"]))
        check(done and done.get("sampling_priority") == {"class": "realtime", "why": ""},
              "a daemon run as root samples in the real-time class: %s" % (done and done.get("sampling_priority")))
        status, headers, svg = daemon.request("GET", "/sessions/%s/flame.svg?search=heavy&width=900&title=T%%26T" % sid, raw=True)
        check(status == 200 and headers.get("Content-Type") == "image/svg+xml", "flame.svg is SVG")
        check(b'data-search="heavy"' in svg and b'width="900"' in svg and b">T&amp;T</text>" in svg,
              "the graph takes search, width and title from the query")
        check(b"heavy (" in svg and b"light (" in svg and b"thread \"" not in svg,
              "the graph names the target's functions, threads merged")
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % sid, raw=True)
        lines = folded_stacks(folded.decode())
        total = sum(int(line.rsplit(" ", 1)[1]) for line in lines)
        heavy = sum(int(line.rsplit(" ", 1)[1]) for line in lines if "heavy (" in line)
        check(status == 200 and total == done["samples"], "folded stacks hold every sample (%d of %d)" % (total, done["samples"]))
        check(0.65 < heavy / max(total, 1) < 0.85, "heavy has about 75%% of them (%.2f)" % (heavy / max(total, 1)))
        status, _, speedscope = daemon.request("GET", "/sessions/%s/speedscope.json" % sid)
        check(status == 200 and speedscope["profiles"][0]["name"].startswith('thread "MainThread"'),
              "speedscope: a profile per thread")
        status, headers, pprof = daemon.request("GET", "/sessions/%s/profile.pb.gz" % sid, raw=True)
        check(status == 200 and pprof[:2] == b"\x1f\x8b" and b"heavy" in gzip.decompress(pprof), "pprof: gzip'd, names heavy")
        status, _, diff = daemon.request("GET", "/sessions/%s/diff/%s.svg" % (sid, sid), raw=True)
        check(status == 200 and b"data-baseline-total" in diff and b'<g id="legend">' in diff,
              "a session against itself: a differential graph, with its colour legend")
        status, headers, table = daemon.request("GET", "/sessions/%s/diff/%s.txt" % (sid, sid), raw=True)
        table = table.decode()
        check(status == 200 and headers.get("Content-Type", "").startswith("text/plain") and
              ("Python " + done["target"]["python_version"]) in table and "function (file)" in table,
              "the difference as a text table, naming the Python version:\n%s" % table[:600])
        status, headers, rows = daemon.request("GET", "/sessions/%s/diff/%s.json?sort=total&top=3" % (sid, sid))
        check(status == 200 and rows["sort"] == "total" and 0 < len(rows["rows"]) <= 3 and
              rows["matched"]["after_samples_percent"] == 100 and
              all(r["total_change"] == 0 and r["before_total"] == r["after_total"] for r in rows["rows"]) and
              # Equal changes: the largest functions first (<module>, main and burn are
              # about 100%, heavy 75%; a stray Random.uniform sample must not displace them).
              all(rows["rows"][i - 1]["after_total"] >= rows["rows"][i]["after_total"] for i in range(1, len(rows["rows"]))) and
              rows["rows_total"] > 3,
              "the difference as JSON: against itself every row is matched and unchanged: %s" % rows)
        status, _, problem = daemon.request("GET", "/sessions/%s/diff/%s.json?sort=name" % (sid, sid))
        check(status == 400 and problem.get("field") == "sort" and "self or total" in problem.get("detail", ""),
              "a table sorted by an unknown key is refused, naming it: %s" % problem)
        status, _, problem = daemon.request("GET", "/sessions/%s/diff/%s.txt?width=9" % (sid, sid))
        check(status == 400 and problem.get("field") == "width", "the table takes no graph options: %s" % problem)
        status, _, _ = daemon.request("GET", "/sessions/%s/diff/%s.txt" % (sid, "0" * 16))
        check(status == 404, "a difference against no session is 404")
        status, _, page = daemon.request("GET", "/", raw=True)
        check(status == 200 and sid.encode() in page and b"heavy &amp; light" in page, "the index page lists the session")

        # Errors, each with its status, a problem body and the field at fault.
        cases = [
            ("POST", "/sessions", b"{not json", 400, None),
            ("POST", "/sessions", {"pid": target.pid, "rate": 5}, 400, "rate"),
            ("POST", "/sessions", {"pid": target.pid, "rate_hz": 1e9}, 400, "rate_hz"),
            ("POST", "/sessions", {"pid": target.pid, "rate_hz": "fast"}, 400, "rate_hz"),
            ("POST", "/sessions", {"pid": target.pid, "duration_s": -1}, 400, "duration_s"),
            ("POST", "/sessions", {"pid": target.pid, "duration_s": None}, 400, "duration_s"),
            ("POST", "/sessions", {"pid": -5}, 400, "pid"),
            ("POST", "/sessions", {"pid": target.pid, "command": ["python3"]}, 400, "pid"),
            ("POST", "/sessions", {"command": ["no-such-program-xyz"]}, 400, "command"),
            ("POST", "/sessions", [1, 2], 400, None),
            ("POST", "/sessions", {"pid": 4194000}, 404, "pid"),
            ("POST", "/sessions", {"pid": sleeper.pid}, 422, "pid"),
            ("POST", "/sessions", {"pid": daemon.process.pid}, 403, "pid"),
            ("POST", "/sessions", {"name": "x" * 3000, "pid": target.pid}, 413, None),
            ("GET", "/sessions/0123456789abcdef", None, 404, None),
            ("GET", "/sessions/../../etc/passwd", None, 404, None),
            ("GET", "/sessions/%2e%2e%2fetc", None, 404, None),
            ("GET", "/sessions?state=done", None, 400, "state"),
            ("GET", "/sessions?limit=0", None, 400, "limit"),
            ("GET", "/sessions/%s/flame.svg?width=5" % sid, None, 400, "width"),
            ("GET", "/sessions/%s/output" % sid, None, 404, None),  # a process pyprofd did not launch
            ("GET", "/sessions/%s/flame.svg?colour=red" % sid, None, 400, "colour"),
            ("POST", "/sessions/%s/stop" % sid, None, 409, None),
            ("PUT", "/sessions", None, 405, None),
            ("GET", "/processes/4194000/stacks", None, 404, None),
            ("GET", "/processes/%d/stacks" % sleeper.pid, None, 422, None),
            ("GET", "/processes/abc/stacks", None, 400, "pid"),
            ("GET", "/nothing-here", None, 404, None),
        ]
        for method, path, body, expected, field in cases:
            status, headers, problem = daemon.request(method, path, body)
            ok = status == expected and headers.get("Content-Type") == "application/problem+json" and \
                isinstance(problem, dict) and problem.get("detail")
            if field:
                ok = ok and problem.get("field") == field
            check(ok, "%s %s -> %d%s: %s" % (method, path[:50], expected, " (field %s)" % field if field else "",
                                               problem.get("detail") if isinstance(problem, dict) else problem))
        status, _, problem = daemon.request("POST", "/sessions", b"\xff\xfe{}", {"Content-Type": "application/json"})
        check(status == 400, "a body that is not UTF-8 -> 400")
        status, _, problem = daemon.request("POST", "/sessions", {"pid": target.pid}, {"Content-Type": "multipart/form-data"})
        check(status == 415 and "must be JSON" in problem["detail"], "a body labelled multipart -> 415")
        status, _, curl_like = daemon.request("POST", "/sessions", {"pid": target.pid, "duration_s": 0.2},
                                              {"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 201, "a JSON body labelled form-urlencoded (curl -d) is taken as JSON")
        wait_for_state(daemon, curl_like["id"], {"completed"})
        status, _, problem = daemon.request("POST", "/sessions", b'{"pid": 1e30}', {"Content-Type": "application/json"})
        check(status == 400 and problem.get("field") == "pid", "a huge pid -> 400")
        status, _, problem = daemon.request("POST", "/sessions", b'{"pid": NaN}', {"Content-Type": "application/json"})
        check(status == 400, "NaN (not JSON) -> 400")
        status, _, problem = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 1e308})
        check(status == 400 and problem.get("field") == "rate_hz", "a huge rate -> 400")
        for raw, expected in ((b"GARBAGE\r\n\r\n", b"HTTP/1.1 400"), (b"GET / HTTP/9.9\r\n\r\n", b"HTTP/1.1 400"),
                              (b"GET /healthz HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"HTTP/1.1 400"),
                              (b"BREW /sessions HTTP/1.1\r\nHost: localhost\r\n\r\n", b"HTTP/1.1 405")):
            import socket
            with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw_socket:
                raw_socket.sendall(raw)
                reply = raw_socket.recv(4096)
            check(reply.startswith(expected), "raw %r -> %r" % (raw[:30], reply[:20]))
        status, _, problem = daemon.request("GET", "/healthz", None, {"X-Big": "x" * 20000})
        check(status == 431, "an oversized header -> 431 (%s)" % status)
        status, _, _ = daemon.request("GET", "/healthz")
        check(status == 200, "the daemon keeps serving after bad requests")

        # Eight sessions at once on one process, the limit; one more gets 429; stop ends one early.
        running = []
        for i in range(8):
            status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 60})
            check(status == 201, "concurrent session %d starts" % (i + 1))
            running.append(s["id"])
        status, _, problem = daemon.request("POST", "/sessions", {"pid": target.pid, "duration_s": 1})
        check(status == 429, "a ninth running session -> 429: %s" % (problem.get("detail") if isinstance(problem, dict) else problem))
        status, _, listed = daemon.request("GET", "/sessions?state=running")
        check(status == 200 and listed["total"] == 8 and {s["id"] for s in listed["sessions"]} == set(running),
              "GET /sessions?state=running lists the eight")
        status, _, page = daemon.request("GET", "/sessions?limit=2&offset=1")
        check(status == 200 and len(page["sessions"]) == 2 and page["total"] == 10 and
              page["sessions"][0]["id"] == running[6], "paginated newest first")
        time.sleep(1.2)  # past two checkpoints
        status, _, stopped = daemon.request("POST", "/sessions/%s/stop" % running[0])
        check(status == 200 and stopped["state"] == "stopped" and stopped["samples"] > 50,
              "POST stop ends a session early, keeping its samples (%s)" % stopped.get("samples"))
        status, _, metrics = daemon.request("GET", "/metrics", raw=True)
        check(b'pyprofd_sessions{state="running"} 7' in metrics and b'pyprofd_http_responses_total{code="429"} 1' in metrics,
              "metrics count sessions by state and responses by status")

        status, _, all_running = daemon.request("GET", "/sessions?state=running")
        check(all(s["samples"] > 50 for s in all_running["sessions"]), "all seven still running are sampling")
        status, _, stacks = daemon.request("GET", "/processes/%d/stacks" % target.pid)
        check(status == 200 and any(f["function"] in ("heavy", "light", "burn") for t in stacks["threads"] for f in t["frames"]),
              "GET /processes/PID/stacks: the target's stack now")

        # SIGKILL mid-session, then a restart; a corrupt file in the state is reported and skipped.
        samples_before = {s["id"]: s["samples"] for s in daemon.request("GET", "/sessions?limit=100")[2]["sessions"]}
        daemon.stop(signal.SIGKILL)
        with open(os.path.join(state, "sessions", "00000000000000aa.json"), "w") as f:
            f.write('{"id": "00000000000000aa", "state": ')
        daemon = Daemon(state, config)
        with open(daemon.log_path) as f:
            log = f.read()
        check("00000000000000aa.json: not valid JSON; skipped" in log, "a corrupt session file is reported and skipped")
        status, _, after = daemon.request("GET", "/sessions?limit=100")
        by_id = {s["id"]: s for s in after["sessions"]}
        check(by_id.get(sid, {}).get("state") == "completed" and by_id[sid]["samples"] == samples_before[sid],
              "after SIGKILL and restart, the finished session is intact")
        interrupted = [by_id.get(i, {}) for i in running[1:]]
        check(all(s.get("state") == "interrupted" for s in interrupted), "the running sessions come back interrupted")
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % running[1], raw=True)
        check(status == 200 and b"heavy (" in folded, "with the samples of their last checkpoint")
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % sid, raw=True)
        check(sum(int(l.rsplit(b" ", 1)[1]) for l in folded_stacks(folded)) == samples_before[sid],
              "the finished session's profile is whole")

        # A launched program never outlives its session.
        status, _, s = daemon.request("POST", "/sessions", {"command": [PYTHON, READABLE_TARGET], "rate_hz": 100, "duration_s": 1.5})
        check(status == 201, "POST with command starts")
        done = wait_for_state(daemon, s["id"], {"completed", "failed", "target_exited"})
        launched = done and done["target"]["pid"]
        check(done and done["state"] == "completed" and done["samples"] > 50,
              "the command session completes: %s" % str(done and (done["state"], done.get("failure"), done["samples"])))
        check(launched and not process_exists(launched), "its program is gone when it ends")
        status, headers, output = daemon.request("GET", "/sessions/%s/output" % s["id"], raw=True)
        check(status == 200 and headers.get("Content-Type") == "text/plain; charset=utf-8" and b"READY" in output,
              "its output is kept: %s %r" % (status, output[:100]))

        # A program that never runs Python: the session fails and says why.
        status, _, s = daemon.request("POST", "/sessions", {"command": ["false"], "duration_s": 5})
        failed = wait_for_state(daemon, s["id"], {"failed"}, timeout=20)
        check(failed is not None and "exited with status 1" in failed.get("failure", ""),
              "a command that exits at once: failed, with the reason: %r" % (failed and failed.get("failure")))

        # DELETE removes a session and its files.
        status, _, _ = daemon.request("DELETE", "/sessions/" + sid)
        check(status == 204, "DELETE -> 204")
        status, _, _ = daemon.request("GET", "/sessions/" + sid)
        check(status == 404 and not os.path.exists(os.path.join(state, "sessions", sid + ".json")),
              "a deleted session and its files are gone")

        # SIGTERM: running sessions end as stopped, are saved, and the daemon exits 0.
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 100, "duration_s": 60})
        time.sleep(0.5)
        started = time.time()
        code = daemon.stop(signal.SIGTERM, timeout=10)
        check(code == 0 and time.time() - started < 5, "SIGTERM: exit 0 within 5 s (%s, %.1f s)" % (code, time.time() - started))
        daemon = Daemon(state, config)
        status, _, again = daemon.request("GET", "/sessions/" + s["id"])
        check(status == 200 and again["state"] == "stopped" and again["samples"] > 0,
              "a session running at SIGTERM is saved as stopped (%s)" % again.get("state"))
        daemon.stop(signal.SIGTERM)
        daemon = None
        check_unix_socket_and_retention(work)
        check_retention_by_age(work)
        check_target_policy(work)
        check_blocking_sessions(work)
        check_bad_configuration(work)
    finally:
        if daemon:
            daemon.stop(signal.SIGKILL)
        target.kill()
        sleeper.kill()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
