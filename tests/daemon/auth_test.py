#!/usr/bin/env python3
"""Access control, with a real daemon: listening beyond loopback without a token is
refused at start; a token file others may read, or too short, is refused; with a
token, every request but GET /healthz needs it (TCP and unix socket), and gets 401
with WWW-Authenticate without it or with another.

Usage: auth_test.py PYPROFD_BINARY
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import check, report  # noqa: E402


def serve(work, config_text, *extra):
    config = os.path.join(work, "c-%d.yaml" % time.time_ns())
    with open(config, "w") as f:
        f.write(config_text)
    return subprocess.run([PYPROFD, "serve", "--config", config, "--state-dir", os.path.join(work, "state")] + list(extra),
                          capture_output=True, text=True, timeout=20)


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-auth-test-")
    token_file = os.path.join(work, "token")
    token = "s3cret-token-0123456789abcdef"

    r = serve(work, "listen: [\"0.0.0.0:0\"]\n")
    check(r.returncode == 2 and "refusing to listen on 0.0.0.0:0 without a token" in r.stderr and
          "auth_token_file" in r.stderr, "no token and a non-loopback address: refused, saying how: %r" % r.stderr[-300:])
    with open(token_file, "w") as f:
        f.write(token + "\n")
    os.chmod(token_file, 0o644)
    r = serve(work, "listen: [\"127.0.0.1:0\"]\nauth_token_file: %s\n" % token_file)
    check(r.returncode == 2 and "may be read by others (mode 644): chmod 600" in r.stderr,
          "a token file others may read: refused: %r" % r.stderr[-200:])
    os.chmod(token_file, 0o600)
    short = os.path.join(work, "short")
    with open(short, "w") as f:
        f.write("abc\n")
    os.chmod(short, 0o600)
    r = serve(work, "auth_token_file: %s\n" % short)
    check(r.returncode == 2 and "shorter than 16 characters" in r.stderr, "a short token: refused")
    r = serve(work, "auth_token_file: %s\n" % os.path.join(work, "missing"))
    check(r.returncode == 2 and "cannot read the token file" in r.stderr and "head -c 32 /dev/urandom" in r.stderr,
          "a missing token file: refused, saying how to make one")

    sock = os.path.join(work, "api.sock")
    config = os.path.join(work, "ok.yaml")
    with open(config, "w") as f:
        f.write("listen: [\"0.0.0.0:0\", \"unix:%s\"]\nauth_token_file: %s\n" % (sock, token_file))
    log_path = os.path.join(work, "daemon.log")
    with open(log_path, "w") as log:
        daemon = subprocess.Popen([PYPROFD, "serve", "--config", config, "--state-dir", os.path.join(work, "state")],
                                  stdout=log, stderr=log)
    try:
        port = None
        for _ in range(200):
            with open(log_path) as f:
                m = re.search(r"listening on 0\.0\.0\.0:(\d+)", f.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        check(port is not None, "with a token it listens beyond loopback")

        def ask(connection, path, authorization=None, method="GET"):
            headers = {"Authorization": authorization} if authorization else {}
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            return response.status, response.getheader("WWW-Authenticate"), body

        for name, connect in (("tcp", lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=10)),
                              ("unix", lambda: UnixConnection(sock))):
            status, _, _ = ask(connect(), "/healthz")
            check(status == 200, "%s: /healthz needs no token" % name)
            for path in ("/sessions", "/metrics", "/", "/openapi.yaml", "/processes/1/stacks", "/sessions/0123456789abcdef/flame.svg"):
                status, challenge, body = ask(connect(), path)
                check(status == 401 and challenge == 'Bearer realm="pyprofd"' and b"Authorization: Bearer" in body,
                      "%s: %s without a token: 401 with WWW-Authenticate" % (name, path))
            status, _, body = ask(connect(), "/sessions", "Bearer wrong-token-0123456789abcdef")
            check(status == 401 and b"not this daemon's" in body, "%s: another token: 401" % name)
            status, _, _ = ask(connect(), "/sessions", "Bearer " + token[:-1])
            check(status == 401, "%s: the token less its last character: 401" % name)
            status, _, _ = ask(connect(), "/sessions", "Basic " + token)
            check(status == 401, "%s: another scheme: 401" % name)
            status, _, body = ask(connect(), "/sessions", "Bearer " + token)
            check(status == 200 and json.loads(body)["total"] == 0, "%s: the token: 200" % name)
            status, _, _ = ask(connect(), "/sessions", "bearer " + token)
            check(status == 200, "%s: the scheme's case does not matter" % name)
            status, _, _ = ask(connect(), "/sessions", None, "POST")
            check(status == 401, "%s: a POST without a token is refused before its body is read" % name)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(10)
        subprocess.run(["rm", "-rf", work])
    return report()


if __name__ == "__main__":
    sys.exit(main())
