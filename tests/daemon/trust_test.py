#!/usr/bin/env python3
"""The trust boundary, with a real daemon and real callers: requests made by other
users' processes (nobody, bin, daemon), on loopback TCP and on the unix socket, the
way a shared staging host's users would make them.

- A caller may profile what the kernel would let it ptrace: its own processes, but not
  root's, another user's, one running with another group, or one that made itself
  undumpable; root and members of access.admin_group may profile any (403 names the rule).
- Sessions belong to their creator: another caller gets 404 for every use of them and
  does not see them listed; admins see all.
- Command sessions are off unless targets.allow_commands; then a caller's program runs
  as that caller (root's as root).
- Browsers: a foreign Host gets 421, a cross-origin write 403 (and no session exists
  afterwards), no CORS header ever; HTML and SVG carry a Content-Security-Policy (the
  graph's script allowed by its very hash) and nosniff.
- The access log names each caller.

Usage: trust_test.py PYPROFD_BINARY SOURCE_DIR
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, readable_copy, report, uid_of  # noqa: E402
import daemon_support  # noqa: E402
from api_contract import Contract  # noqa: E402

CONTRACT = Contract(os.path.join(SOURCE, "openapi.yaml"))


def call(where, method, path, body=None, headers=None, user=None):
    """A request as `user`, its answer checked against openapi.yaml."""
    status, response_headers, content = daemon_support.call(where, method, path, body, headers, user)
    raw = json.dumps(content) if isinstance(content, (dict, list)) else content
    CONTRACT.check(method, path, status, response_headers.get("Content-Type", ""), raw)
    return status, response_headers, content

NOBODY, BIN, DAEMON_USER = 65534, 2, 1  # DAEMON_USER's group, "daemon", is the admin group here
TARGET = readable_copy(os.path.join(SOURCE, "tests", "targets", "busy_and_idle.py"))
UNDUMPABLE = "import ctypes, time; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); print('READY', flush=True); time.sleep(600)"


def start_target(uid=None, gid=None, code=None):
    command = [PYTHON, "-c", code] if code else [PYTHON, TARGET]
    kwargs = {"cwd": "/"}
    if uid is not None:
        kwargs.update(user=uid, group=gid if gid is not None else uid, extra_groups=[])
    p = subprocess.Popen(command, stdout=subprocess.PIPE, **kwargs)
    p.stdout.readline()
    return p


def wait_finished(where, sid, user):
    for _ in range(200):
        status, _, s = call(where, "GET", "/sessions/" + sid, user=user)
        if status == 200 and s["state"] != "running":
            return s
        time.sleep(0.1)
    return None


def check_processes(tcp, unix, targets):
    root_p, nobody_p, undumpable_p, other_group_p = targets
    stacks = "/processes/%d/stacks"
    for where, name in ((tcp, "loopback"), (unix, "unix socket")):
        status, _, body = call(where, "GET", stacks % nobody_p.pid, user=NOBODY)
        check(status == 200 and body.get("pid") == nobody_p.pid, "%s: nobody reads its own process: %s" % (name, status))
        status, _, body = call(where, "GET", stacks % root_p.pid, user=NOBODY)
        check(status == 403 and "process %d runs as uid 0 (root)" % root_p.pid in body["detail"] and
              "uid 65534 (nobody)" in body["detail"],
              "%s: nobody may not read root's process, and is told why: %s" % (name, body.get("detail")))
    status, _, body = call(tcp, "GET", stacks % nobody_p.pid, user=BIN)
    check(status == 403 and "runs as uid 65534 (nobody)" in body["detail"], "bin may not read nobody's process")
    status, _, body = call(tcp, "GET", stacks % undumpable_p.pid, user=NOBODY)
    check(status == 403 and "not dumpable" in body["detail"],
          "nobody may not read its own process once it made itself undumpable: %s" % body.get("detail"))
    status, _, body = call(unix, "GET", stacks % other_group_p.pid, user=NOBODY)
    check(status == 403 and "group ids" in body["detail"],
          "nor one of its own that runs with another group (root's): %s" % body.get("detail"))
    status, _, body = call(tcp, "GET", stacks % other_group_p.pid, user=NOBODY)
    check(status == 403, "on loopback too, where the user's own group stands in for the kernel's word")
    status, _, body = call(tcp, "GET", stacks % root_p.pid, user=DAEMON_USER)
    check(status == 200, "a member of access.admin_group reads root's process: %s" % status)
    status, _, body = call(tcp, "GET", stacks % undumpable_p.pid)
    check(status == 200, "root reads the undumpable one")
    status, _, body = call(tcp, "POST", "/sessions", {"pid": root_p.pid, "duration_s": 1}, user=NOBODY)
    check(status == 403 and body.get("field") == "pid", "nobody may not start a session on root's process")


def check_sessions(tcp, unix, nobody_p):
    status, _, s = call(tcp, "POST", "/sessions", {"pid": nobody_p.pid, "rate_hz": 200, "duration_s": 1}, user=NOBODY)
    check(status == 201 and s["owner"]["name"] == "nobody", "nobody starts a session on its own process, which it owns")
    sid = s["id"]
    done = wait_finished(unix, sid, NOBODY)
    check(done is not None and done["state"] == "completed" and done["samples"] > 0,
          "and reads it through the unix socket too, as the same owner")
    for method, path in (("GET", "/sessions/%s"), ("GET", "/sessions/%s/flame.svg"), ("GET", "/sessions/%s/folded"),
                         ("GET", "/sessions/%s/speedscope.json"), ("GET", "/sessions/%s/profile.pb.gz"),
                         ("GET", "/sessions/%s/diff/" + sid + ".svg"), ("GET", "/sessions/%s/diff/" + sid + ".txt"),
                         ("GET", "/sessions/%s/diff/" + sid + ".json"), ("POST", "/sessions/%s/stop"),
                         ("DELETE", "/sessions/%s")):
        status, _, body = call(tcp, method, path % sid, user=BIN)
        check(status == 404, "another user: %s %s -> 404, as for no session at all" % (method, path % "ID"))
    status, _, listed = call(tcp, "GET", "/sessions", user=BIN)
    check(status == 200 and listed["total"] == 0, "another user's list does not show it")
    status, _, page = call(tcp, "GET", "/", user=BIN)
    check(status == 200 and sid not in page, "nor does its page")
    status, _, listed = call(tcp, "GET", "/sessions", user=NOBODY)
    check(sid in [x["id"] for x in listed["sessions"]], "its owner's list shows it")
    status, _, listed = call(tcp, "GET", "/sessions")
    check(sid in [x["id"] for x in listed["sessions"]], "root's list shows every session")
    status, _, svg = call(tcp, "GET", "/sessions/%s/flame.svg" % sid, user=DAEMON_USER)
    check(status == 200, "an admin reads it")
    status, _, _ = call(tcp, "DELETE", "/sessions/" + sid, user=NOBODY)
    check(status == 204, "its owner deletes it")


def check_commands(tcp, daemon_off_port):
    body = {"command": [PYTHON, TARGET], "rate_hz": 100, "duration_s": 5}
    for user, expected_uid, name in ((NOBODY, NOBODY, "nobody"), (None, 0, "root")):
        status, _, s = call(tcp, "POST", "/sessions", body, user=user)
        check(status == 201, "with allow_commands, %s launches a program" % name)
        launched = None
        for _ in range(100):
            _, _, now = call(tcp, "GET", "/sessions/" + s["id"], user=user)
            if now["samples"] > 0:
                launched = now["target"]["pid"]
                break
            time.sleep(0.05)
        check(launched is not None and uid_of(launched) == expected_uid,
              "it runs as its caller (uid %s, wanted %s)" % (launched and uid_of(launched), expected_uid))
        if launched is not None:
            import pwd
            entry = pwd.getpwuid(expected_uid)
            with open("/proc/%d/environ" % launched, "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
            with open("/proc/%d/status" % launched) as f:
                ids = {l.split(":")[0]: l.split()[1:] for l in f if l.startswith(("Gid:", "Groups:"))}
            wanted_groups = sorted(set([entry.pw_gid] + [g.gr_gid for g in __import__("grp").getgrall()
                                                         if entry.pw_name in g.gr_mem]))
            check(env.get(b"HOME") == entry.pw_dir.encode() and env.get(b"USER") == entry.pw_name.encode() and
                  ids["Gid"][0] == str(entry.pw_gid) and sorted(map(int, ids["Groups"])) == wanted_groups,
                  "with its HOME, USER, group and groups (%s, %s, %s, %s)" %
                  (env.get(b"HOME"), env.get(b"USER"), ids["Gid"][0], ids["Groups"]))
        call(tcp, "POST", "/sessions/%s/stop" % s["id"], user=user)
    status, _, p = call("127.0.0.1:%d" % daemon_off_port, "POST", "/sessions", body)
    check(status == 403 and p.get("field") == "command" and "targets.allow_commands" in p["detail"] and
          "allow-commands.conf" in p["detail"],
          "without allow_commands a command session is refused, saying how to turn it on: %s" % p.get("detail"))


def check_browsers(tcp, unix, port, root_p):
    status, _, p = call(tcp, "GET", "/sessions", headers={"Host": "evil.example.com"})
    check(status == 421 and "access.server_names" in p["detail"], "a foreign Host (DNS rebinding) -> 421")
    status, _, p = call(tcp, "GET", "/sessions", headers={"Host": "evil.example.com:%d" % port})
    check(status == 421, "with the daemon's port too")
    for host in ("localhost:%d" % port, "127.0.0.1:%d" % port, "LOCALHOST.:%d" % port, "pyprofd.localhost:%d" % port):
        status, _, _ = call(tcp, "GET", "/sessions", headers={"Host": host})
        check(status == 200, "Host %s is a loopback name: 200" % host)
    status, _, _ = call(unix, "GET", "/sessions", headers={"Host": "whatever.example"})
    check(status == 200, "the unix socket is out of a browser's reach: any Host")
    _, _, before = call(tcp, "GET", "/sessions")
    body = {"pid": root_p.pid, "duration_s": 1}
    for headers, what in (({"Origin": "http://evil.example.com", "Content-Type": "text/plain"}, "another site's Origin"),
                          ({"Origin": "http://127.0.0.1:%d" % (port + 1)}, "another port's Origin"),
                          ({"Origin": "null"}, "an opaque Origin"),
                          ({"Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: cross-site"),
                          ({"Sec-Fetch-Site": "same-site"}, "Sec-Fetch-Site: same-site")):
        status, headers_back, p = call(tcp, "POST", "/sessions", body, headers)
        check(status == 403 and not any(h.lower().startswith("access-control-") for h in headers_back),
              "a write with %s -> 403, no CORS header" % what)
    status, _, p = call(tcp, "DELETE", "/sessions/0123456789abcdef", headers={"Origin": "http://evil.example.com"})
    check(status == 403, "a DELETE from another origin -> 403")
    _, _, after = call(tcp, "GET", "/sessions")
    check(after["total"] == before["total"], "no session exists after the refused writes")
    status, _, s = call(tcp, "POST", "/sessions", body, {"Origin": "http://127.0.0.1:%d" % port, "Sec-Fetch-Site": "same-origin"})
    check(status == 201, "a write from the daemon's own origin -> 201")
    status, _, s2 = call(tcp, "POST", "/sessions", body)
    check(status == 201, "and from curl, which sends no Origin")
    status, headers, _ = call(tcp, "GET", "/sessions", headers={"Origin": "http://evil.example.com"})
    check(status == 200 and not any(h.lower().startswith("access-control-") for h in headers), "reads carry no CORS header")
    status, headers, page = call(tcp, "GET", "/")
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    script_sources = directives.get("script-src", "").split()
    check(directives.get("default-src") == "'none'" and script_sources[:1] == ["'self'"] and
          all(s.startswith("'sha256-") for s in script_sources[1:]) and len(script_sources) == 2 and
          "unsafe-inline" not in csp and "http" not in csp and "*" not in csp and
          directives.get("connect-src") == "'self'" and directives.get("frame-ancestors") == "'none'" and
          headers.get("X-Content-Type-Options") == "nosniff",
          "the console: a CSP that runs the daemon's own script and the graph's (by hash), nothing inline, "
          "no other origin; nosniff: %s" % csp)
    wait_finished(tcp, s["id"], None)
    status, headers, svg = call(tcp, "GET", "/sessions/%s/flame.svg" % s["id"])
    csp = headers.get("Content-Security-Policy", "")
    script = re.search(r"<script[^>]*><!\[CDATA\[(.*?)\]\]></script>", svg, re.S)
    digest = script and "'sha256-%s'" % base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    check(status == 200 and digest and "script-src %s;" % digest in csp and "default-src 'none'" in csp and
          headers.get("X-Content-Type-Options") == "nosniff",
          "the graph: a CSP that allows its own script by hash and nothing else: %s" % csp)
    check(" onload=" not in svg and not re.search(r"<[^>]+ on[a-z]+=", svg), "the graph has no inline event handler")


def main():
    for user in (NOBODY, BIN, DAEMON_USER):
        import pwd
        try:
            pwd.getpwuid(user)
        except KeyError:
            print("FAIL this test needs the Debian system user with uid %d" % user)
            return 1
    work = tempfile.mkdtemp(prefix="pyprofd-trust-test-")
    os.chmod(work, 0o755)
    sock = os.path.join(work, "api.sock")
    config = os.path.join(work, "trust.yaml")
    with open(config, "w") as f:
        f.write("listen: [\"127.0.0.1:0\", \"unix:%s\"]\naccess: {admin_group: daemon}\ntargets: {allow_commands: true}\n" % sock)
    daemon = Daemon(PYPROFD, ["--config", config, "--state-dir", os.path.join(work, "state")], os.path.join(work, "daemon.log"))
    daemon_off = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state-off")],
                        os.path.join(work, "daemon-off.log"))
    targets = [start_target(), start_target(NOBODY, NOBODY), start_target(NOBODY, NOBODY, UNDUMPABLE),
               start_target(NOBODY, 0)]
    tcp, unix = "127.0.0.1:%d" % daemon.port, "unix:" + sock
    try:
        check(oct(os.stat(sock).st_mode & 0o777) == "0o666", "the unix socket is 0666: every caller is identified")
        check_processes(tcp, unix, targets)
        check_sessions(tcp, unix, targets[1])
        check_commands(tcp, daemon_off.port)
        check_browsers(tcp, unix, daemon.port, targets[0])
        log = daemon.log()
        check(re.search(r'access 127\.0\.0\.1:\d+ uid 65534 \(nobody\) "GET /processes/\d+/stacks" 200', log),
              "the access log names the caller")
        check(re.search(r'access unix uid 2 \(bin\)|access 127\.0\.0\.1:\d+ uid 2 \(bin\)', log), "by uid and name")
        check(re.search(r"session=\w+ started by uid 65534 \(nobody\)", log), "and so does the session log")
    finally:
        daemon.stop()
        daemon_off.stop()
        for p in targets:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", work])
    return report()


if __name__ == "__main__":
    sys.exit(main())
