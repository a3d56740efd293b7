#!/usr/bin/env python3
"""Names from a hostile target cannot forge a profile. The target (running as nobody)
has a function whose qualified name and file name, and a thread whose name, hold a
newline, ';', a count of 10^18, U+FFFF, U+FFFE and an escape sequence. Through a
real daemon: /folded has one line per stack with its own frames and no forged
count; the flame graph is well-formed XML (xmllint); the index page carries no
U+FFFF; and after the daemon is killed and started again, both the finished and the
interrupted session reload whole, with the same folded stacks, and no graph shows a
forged stack.

Usage: hostile_names_test.py PYPROFD_BINARY SOURCE_DIR
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
from daemon_support import PYTHON, Daemon, check, readable_copy, report, wait_for_state  # noqa: E402

TARGET = os.path.join(SOURCE, "tests/targets/hostile_names.py")
FORGED_COUNT = 10 ** 18


def start_daemon(state, work, name):
    return Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state, "--config", os.path.join(work, "fast.yaml")],
                  os.path.join(work, name))


def folded_lines(daemon, sid):
    status, _, body = daemon.request("GET", "/sessions/%s/folded" % sid, raw=True)
    assert status == 200, status
    # Its header's lines of metadata ('#') are not stacks.
    return [line for line in body.decode("utf-8").split("\n") if not line.startswith("#")]


def check_folded(lines, samples, what):
    """One stack a line, its frames its own, its count no more than the samples taken."""
    if not check(lines and lines[-1] == "", "%s: ends with a newline" % what):
        return
    total = 0
    bad = []
    for line in lines[:-1]:
        m = re.fullmatch(r"(.+) (\d+)", line)
        if not m:
            bad.append(line)
            continue
        frames = m.group(1).split(";")
        count = int(m.group(2))
        total += count
        # Every stack starts at a thread root (the saved profile) or at <module>/a
        # thread's run (the merged view), and no frame is a piece of a forged name.
        if count > samples or any(f.startswith(("forged", "stack", "frames ", "\x1b")) for f in frames):
            bad.append(line)
    check(not bad, "%s: every line is 'frames count' with frames of its own and a real count: %r" %
          (what, [b[:160] for b in bad[:3]]))
    check(0 < total <= samples, "%s: the counts add up to at most the %d samples taken (%d)" % (what, samples, total))
    text = "\n".join(lines)
    check(str(FORGED_COUNT) + "\n" not in text + "\n" and "\n" + str(FORGED_COUNT) not in text,
          "%s: no line ends in the forged count" % what)
    check("evil\u240aforged\uff1bstack\uff1bframes 1000000000000000000\u240a\ufffd\ufffd\u241b[31m" in text,
          "%s: the hostile name is shown, its newline, ';', U+FFFF, U+FFFE and ESC replaced visibly" % what)


def xmllint(document, work, name):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(document)
    done = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
    return done.returncode, done.stderr.strip()[:300]


def check_graph(daemon, sid, samples, work, what):
    status, _, svg = daemon.request("GET", "/sessions/%s/flame.svg" % sid, raw=True)
    check(status == 200, "%s: flame.svg is served" % what)
    code, errors = xmllint(svg, work, sid + ".svg")
    check(code == 0, "%s: flame.svg is well-formed XML (xmllint): %s" % (what, errors))
    check("\uffff".encode() not in svg and "\ufffe".encode() not in svg, "%s: flame.svg holds no U+FFFF or U+FFFE" % what)
    total = int(re.search(rb'data-total="(\d+)"', svg).group(1))
    check(0 < total <= samples, "%s: the graph's total is the samples taken, not a forged count (%d)" % (what, total))
    titles = re.findall(rb"<title>([^<]*)</title>", svg)
    forged = [t for t in titles if t.startswith((b"forged", b"stack", b"frames"))]
    check(not forged, "%s: no frame of the graph is a piece of a forged name: %r" % (what, forged[:3]))


def main():
    if os.geteuid() != 0:
        print("FAIL this test runs its target as nobody and needs root")
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-hostile-names-test-")
    with open(os.path.join(work, "fast.yaml"), "w") as f:
        f.write("checkpoint_interval_s: 0.5\n")
    state = os.path.join(work, "state")
    target = subprocess.Popen([PYTHON, readable_copy(TARGET)], stdout=subprocess.PIPE, user=65534, group=65534,
                              extra_groups=[], cwd="/")
    daemon = None
    try:
        check(target.stdout.readline().strip() == b"READY", "the hostile target runs as nobody")
        daemon = start_daemon(state, work, "daemon1.log")

        # A finished session, with a root per thread so the thread names show too.
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 200, "duration_s": 1.5,
                                                            "threads": True, "name": "hostile \uffff\ufffe"})
        check(status == 201, "a session on the hostile target starts: %s" % status)
        done = wait_for_state(daemon, s["id"], {"completed", "failed", "target_exited"})
        check(done and done["state"] == "completed" and done["samples"] > 0,
              "it completes with samples: %r" % ((done and (done["state"], done["samples"], done.get("failure"))),))
        samples = done["samples"] * 2  # two threads each sample
        finished_before = folded_lines(daemon, done["id"])
        check_folded(finished_before, samples, "/folded of the finished session")
        check(any(l.startswith("thread \"worker\u240aforged\uff1b") for l in finished_before),
              "/folded: the thread's name is its root frame, newline and ';' replaced")
        check_graph(daemon, done["id"], samples, work, "finished session")
        status, _, page = daemon.request("GET", "/", raw=True)
        check(status == 200 and "\uffff".encode() not in page and "hostile \ufffd\ufffd".encode() in page,
              "the index page shows the session's name with U+FFFF and U+FFFE replaced")

        # A session still running when the daemon is killed: it comes back interrupted.
        status, _, running = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 200, "duration_s": 60})
        check(status == 201, "a second session starts")
        time.sleep(2)  # checkpoints every 0.5 s
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        saved = open(os.path.join(state, "sessions", done["id"] + ".folded"), encoding="utf-8").read().split("\n")
        check_folded(saved, samples, "the saved .folded file")

        daemon = start_daemon(state, work, "daemon2.log")
        finished_after = folded_lines(daemon, done["id"])
        check(finished_after == finished_before, "after a restart, the finished session's folded stacks are the same")
        _, _, back = daemon.request("GET", "/sessions/" + running["id"])
        check(back["state"] == "interrupted", "the running one is back as interrupted")
        interrupted = folded_lines(daemon, running["id"])
        check_folded(interrupted, back["samples"] * 2, "/folded of the interrupted session after the restart")
        check_graph(daemon, done["id"], samples, work, "finished session after the restart")
        check_graph(daemon, running["id"], back["samples"] * 2, work, "interrupted session after the restart")
        log = daemon.log()
        check("served with the stacks before" not in log and "served empty" not in log,
              "every saved profile reloads whole (the log reports no unreadable line)")
    finally:
        if daemon:
            daemon.process.kill()
            daemon.process.wait()
        target.kill()
        target.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
