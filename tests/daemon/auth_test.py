#!/usr/bin/env python3
"""Tokens, with a real daemon: listening beyond loopback without a token is refused at
start, and so is a token file others may read, one too short, missing, or the same
token twice. In a network namespace of its own (where 198.51.100.1 is an address of
this host that is not loopback), a caller on "another host" needs a token for every
request but GET /healthz and the console's script and style, and gets 401 with
WWW-Authenticate without one or with a wrong one (a browser opening the console gets
the page without data, to enter a token in); an admin token may do anything, a token
that acts as a user has that user's rights only; a local caller (loopback or unix socket) needs none: the kernel
says who it is. The access log names each caller.

Usage: auth_test.py PYPROFD_BINARY
"""
import os
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, call, check, report  # noqa: E402

REMOTE = "198.51.100.1"  # TEST-NET-2: an address given to the namespace's own lo


def serve(work, config_text, *extra):
    config = os.path.join(work, "c-%d.yaml" % time.time_ns())
    with open(config, "w") as f:
        f.write(config_text)
    return subprocess.run([PYPROFD, "serve", "--config", config, "--state-dir", os.path.join(work, "state")] + list(extra),
                          capture_output=True, text=True, timeout=20)


def token_file(work, name, text, mode=0o600):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)
    return path


def check_refusals_at_start(work):
    r = serve(work, "listen: [\"0.0.0.0:0\"]\n")
    check(r.returncode == 2 and "refusing to listen on 0.0.0.0:0 without a token" in r.stderr and "access.tokens" in r.stderr,
          "no token and a non-loopback address: refused, saying how: %r" % r.stderr[-300:])
    loose = token_file(work, "loose", "s3cret-token-0123456789abcdef", 0o644)
    r = serve(work, "access: {tokens: [{name: ci, file: %s, role: admin}]}\n" % loose)
    check(r.returncode == 2 and "token 'ci': the token file %s may be read by others (mode 644): chmod 600" % loose in r.stderr,
          "a token file others may read: refused: %r" % r.stderr[-200:])
    short = token_file(work, "short", "abc")
    r = serve(work, "access: {tokens: [{name: ci, file: %s, role: admin}]}\n" % short)
    check(r.returncode == 2 and "shorter than 16 characters" in r.stderr, "a short token: refused")
    r = serve(work, "access: {tokens: [{name: ci, file: %s, role: admin}]}\n" % os.path.join(work, "missing"))
    check(r.returncode == 2 and "cannot read the token file" in r.stderr and "head -c 32 /dev/urandom" in r.stderr,
          "a missing token file: refused, saying how to make one")
    one = token_file(work, "one", "the-same-token-0123456789")
    two = token_file(work, "two", "the-same-token-0123456789")
    r = serve(work, "access: {tokens: [{name: a, file: %s, role: admin}, {name: b, file: %s, user: nobody}]}\n" % (one, two))
    check(r.returncode == 2 and "tokens 'a' and 'b' are the same token" in r.stderr, "one token for two names: refused")
    r = serve(work, "access: {tokens: [{name: a, file: %s, user: no-such-user-xyz}]}\n" % one)
    check(r.returncode == 2 and "token 'a': no user 'no-such-user-xyz'" in r.stderr, "a token for an unknown user: refused")
    link = os.path.join(work, "link.token")
    os.symlink(one, link)
    r = serve(work, "access: {tokens: [{name: a, file: %s, role: admin}]}\n" % link)
    check(r.returncode == 2 and "is a symbolic link" in r.stderr, "a token file that is a symbolic link: refused")
    r = serve(work, "auth_token_file: %s\n" % one)
    check(r.returncode == 2 and "was replaced by access.tokens" in r.stderr, "the old auth_token_file says what replaced it")


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-auth-test-")
    os.chmod(work, 0o755)
    check_refusals_at_start(work)

    admin_token = "admin-token-0123456789abcdef"
    nobody_token = "nobody-token-0123456789abcdef"
    sock = os.path.join(work, "api.sock")
    config = os.path.join(work, "ok.yaml")
    with open(config, "w") as f:
        f.write("listen: [\"0.0.0.0:0\", \"unix:%s\"]\naccess:\n  tokens:\n"
                "    - {name: ci, file: %s, role: admin}\n    - {name: as-nobody, file: %s, user: nobody}\n"
                % (sock, token_file(work, "ci.token", admin_token), token_file(work, "nobody.token", nobody_token)))
    # A network of its own: its lo also has an address that is not loopback, so a
    # client there is "another host" to the daemon, and nothing leaves this machine.
    namespace = ["unshare", "--net", "sh", "-c",
                 'ip link set lo up && ip addr add %s/32 dev lo && exec "$0" "$@"' % REMOTE]
    root_target = subprocess.Popen([PYTHON, "-c", "import sys, time; print('READY', flush=True); time.sleep(600)"],
                                   stdout=subprocess.PIPE)
    root_target.stdout.readline()
    daemon = Daemon(PYPROFD, ["--config", config, "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"), prefix=namespace)
    enter = ["nsenter", "--net=/proc/%d/ns/net" % daemon.process.pid]
    remote = "%s:%d" % (REMOTE, daemon.port)
    try:
        def ask(path, authorization=None, method="GET", where=remote, user=None):
            headers = {"Authorization": authorization} if authorization else {}
            return call(where, method, path, None, headers, user=user, prefix=enter)

        status, _, _ = ask("/healthz")
        check(status == 200, "another host: /healthz needs no token")
        for path in ("/sessions", "/metrics", "/", "/openapi.yaml", "/processes/1/stacks", "/sessions/0123456789abcdef/flame.svg"):
            status, headers, body = ask(path)
            check(status == 401 and headers.get("WWW-Authenticate") == 'Bearer realm="pyprofd"' and
                  "needs a token" in body["detail"] and "Authorization: Bearer" in body["detail"],
                  "another host: %s without a token: 401 with WWW-Authenticate" % path)
        # A browser opening the console gets it still, with 401 and no data, to enter a token in.
        status, headers, page = call(remote, "GET", "/", None, {"Accept": "text/html,*/*"}, prefix=enter)
        check(status == 401 and headers.get("WWW-Authenticate") == 'Bearer realm="pyprofd"' and
              headers.get("Content-Type", "").startswith("text/html") and 'id="token-form"' in page and
              "needs a token" in page and "data-signed-out=\"true\"" in page and "data-id=" not in page,
              "another host: a browser opening / gets the console without data, with 401, asking for a token")
        for asset, kind in (("/console.js", "text/javascript"), ("/console.css", "text/css")):
            status, headers, _ = ask(asset)
            check(status == 200 and headers.get("Content-Type", "").startswith(kind),
                  "another host: %s needs no token (the same for everyone)" % asset)
        status, _, body = ask("/sessions", "Bearer wrong-token-0123456789abcdef")
        check(status == 401 and "not one this daemon knows" in body["detail"], "another host: a wrong token: 401")
        status, _, _ = ask("/sessions", "Bearer " + admin_token[:-1])
        check(status == 401, "the token less its last character: 401")
        status, _, _ = ask("/sessions", "Basic " + admin_token)
        check(status == 401, "another scheme: 401")
        status, _, body = ask("/sessions", "Bearer " + admin_token)
        check(status == 200 and body["total"] == 0, "another host with the admin token: 200")
        status, _, _ = ask("/sessions", "bearer " + admin_token)
        check(status == 200, "the scheme's case does not matter")
        status, _, _ = ask("/sessions", None, "POST")
        check(status == 401, "a POST without a token is refused before its body is read")

        stacks = "/processes/%d/stacks" % root_target.pid
        status, _, body = ask(stacks, "Bearer " + admin_token)
        check(status == 200 and body.get("pid") == root_target.pid, "the admin token reads root's process: 200")
        status, _, body = ask(stacks, "Bearer " + nobody_token)
        check(status == 403 and "runs as uid 0 (root)" in body["detail"] and "token as-nobody" in body["detail"],
              "a token that acts as nobody cannot read root's process: 403: %s" % body.get("detail"))
        status, _, body = ask(stacks, "Bearer " + nobody_token, where="127.0.0.1:%d" % daemon.port)
        check(status == 403, "a token wins over the kernel's word: root's connection with nobody's token is nobody")
        status, _, body = ask(stacks, where="127.0.0.1:%d" % daemon.port)
        check(status == 200, "a local caller needs no token: root on loopback reads root's process")
        status, _, body = ask(stacks, where="unix:" + sock)
        check(status == 200, "nor on the unix socket")
        status, _, body = ask(stacks, where="unix:" + sock, user=65534)
        check(status == 403 and "uid 65534 (nobody)" in body["detail"], "nobody on the unix socket: 403")
        log = daemon.log()
        check("token ci (admin) \"GET %s\" 200" % stacks in log, "the access log names the admin token")
        check("token as-nobody (as uid 65534 (nobody)) \"GET %s\" 403" % stacks in log, "and the user token, with its user")
        check("unix uid 65534 (nobody) \"GET %s\" 403" % stacks in log, "and a local caller, by uid and name")
    finally:
        daemon.stop()
        root_target.kill()
        root_target.wait()
        subprocess.run(["rm", "-rf", work])
    return report()


if __name__ == "__main__":
    sys.exit(main())
