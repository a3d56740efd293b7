#!/usr/bin/env python3
"""The daemon's sd_notify messages, as systemd would receive them: the test binds a
unix datagram socket, passes it as $NOTIFY_SOCKET (once by path, once in the
abstract namespace) with $WATCHDOG_USEC, and reads READY=1 once the daemon
answers, WATCHDOG=1 at half the interval, and STOPPING=1 after SIGTERM.

Usage: systemd_notify_test.py PYPROFD_BINARY
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import Daemon, check, report  # noqa: E402


def messages_until(sock, wanted, timeout):
    """Every datagram until one holds `wanted` (or time runs out)."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data = sock.recv(4096).decode()
        except socket.timeout:
            break
        got.append(data)
        if wanted in data.split("\n"):
            break
    return got


def run(pyprofd, work, address, label):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    env = dict(os.environ, NOTIFY_SOCKET=address if isinstance(address, str) else "@" + address[1:].decode(),
               WATCHDOG_USEC="400000")
    log_path = os.path.join(work, "daemon-%s.log" % label)
    with open(log_path, "w") as log:
        daemon = subprocess.Popen([pyprofd, "serve", "--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                                  env=env, stdout=log, stderr=log)
    try:
        got = messages_until(sock, "READY=1", 20)
        check(any("READY=1" in m.split("\n") for m in got), "%s: READY=1 arrives: %s" % (label, got))
        with open(log_path) as f:
            port = re.search(r"listening on 127\.0\.0\.1:(\d+)", f.read()).group(1)
        ready = [m for m in got if "READY=1" in m.split("\n")][0]
        check("STATUS=listening on 127.0.0.1:" + port in ready, "%s: with a STATUS saying where it listens" % label)
        with urllib.request.urlopen("http://127.0.0.1:%s/healthz" % port, timeout=5) as r:
            check(r.status == 200, "%s: it answers once READY=1 is sent" % label)
        started = time.time()
        pings = [m for m in messages_until(sock, "never", 1.0) if m == "WATCHDOG=1"]
        check(3 <= len(pings) <= 7, "%s: WATCHDOG=1 every 0.2 s (half of WATCHDOG_USEC): %d in %.1f s" %
              (label, len(pings), time.time() - started))
        daemon.send_signal(signal.SIGTERM)
        got = messages_until(sock, "STOPPING=1", 10)
        check(any(m == "STOPPING=1" for m in got), "%s: STOPPING=1 after SIGTERM" % label)
        check(daemon.wait(10) == 0, "%s: then exits 0" % label)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        sock.close()


def main():
    pyprofd = sys.argv[1]
    work = tempfile.mkdtemp(prefix="pyprofd-notify-test-")
    run(pyprofd, work, os.path.join(work, "notify.sock"), "path")
    run(pyprofd, work, b"\0pyprofd-notify-test-%d" % os.getpid(), "abstract")
    # Without NOTIFY_SOCKET nothing is sent and nothing fails.
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    # Sent SIGTERM once its log says it listens (Daemon waits for that): a signal
    # before the daemon has set up its handling (an ASan build on a loaded host can
    # take a while) would test nothing of this.
    try:
        daemon = Daemon(pyprofd, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                        os.path.join(work, "plain.log"), env=env)
    except RuntimeError as e:
        daemon = None
        check(False, "without NOTIFY_SOCKET it runs as usual: %s" % e)
    if daemon:
        check(daemon.process.poll() is None, "without NOTIFY_SOCKET it runs as usual")
        status = daemon.stop()
        check(status == 0, "and stops as usual (exit status %s)%s" %
              (status, "" if status == 0 else ":\n" + daemon.log()[-1500:]))
    subprocess.run(["rm", "-rf", work])
    return report()


if __name__ == "__main__":
    sys.exit(main())
