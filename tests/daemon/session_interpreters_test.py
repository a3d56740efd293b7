#!/usr/bin/env python3
"""A daemon session on every interpreter the tests know: pyenv's, Debian's, and
Debian sid's 3.14 and 3.15 run inside their root with chroot (as list_interpreters
finds them, and with the command it gives to run each). For each: a session by PID
completes with its samples, names the target's Python version, command line,
working directory and standard library as the target sees them (its folded stacks'
header too), and its profile holds the target's functions.

Usage: session_interpreters_test.py PYPROFD_BINARY LIST_INTERPRETERS_BINARY
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

PYPROFD, LIST_INTERPRETERS = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import Daemon, check, folded_sources, report, wait_for_state  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.path.join(SOURCE, "tests/targets/heavy_light.py")
RATE_HZ, DURATION_S = 200, 1.0


def interpreters(*args):
    """Every interpreter, with the command that runs it with args; exits 1 (CI: one
    expected is missing) as list_interpreters does."""
    listed = subprocess.run([LIST_INTERPRETERS, "--json"] + list(args), capture_output=True, text=True, timeout=60)
    sys.stdout.write(listed.stderr)
    if listed.returncode != 0:
        check(False, "list_interpreters: every expected interpreter is there")
        sys.exit(report())
    return json.loads(listed.stdout)


def standard_libraries():
    """Each interpreter's standard library's directory (os.py's), as it says itself, by label."""
    said = {}
    for py in interpreters("-c", "import os, sys; sys.stdout.write(os.path.dirname(os.__file__))"):
        run = subprocess.run(py["command"], capture_output=True, text=True, timeout=60)
        said[py["label"]] = run.stdout if run.returncode == 0 else "(%s failed: %s)" % (py["label"], run.stderr)
    return said


def session_on(daemon, py, standard_library, work):
    label = py["label"]
    # One in a root runs chrooted at its "/"; the others where they are put.
    in_root = py["command"][0] != py["executable"]
    cwd = "/" if in_root else work
    target = subprocess.Popen(py["command"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              cwd=None if in_root else work)
    try:
        ready = target.stdout.readline()
        if not check(ready.strip() == b"READY", "%s: the target starts (%r)" % (label, ready)):
            return
        status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": RATE_HZ,
                                                            "duration_s": DURATION_S})
        if not check(status == 201, "%s: POST /sessions by PID: 201 (%s %s)" % (label, status, s)):
            return
        done = wait_for_state(daemon, s["id"], {"completed", "failed"})
        if not check(done is not None and done["state"] == "completed",
                     "%s: the session completes (%s)" % (label, done and done.get("failure"))):
            return
        family = "%d.%d." % (py["major"], py["minor"])
        check(done["target"]["python_version"].startswith(family),
              "%s: the session names Python %s (%s)" % (label, family, done["target"]["python_version"]))
        check(done["target"]["command_line"][:2] == [py["executable"], TARGET],
              "%s: its command line as the target sees it: %s" % (label, done["target"]["command_line"]))
        sources = {"working_directory": cwd, "standard_library": standard_library}
        check({k: done["target"].get(k) for k in sources} == sources,
              "%s: its working directory and standard library as it sees them: %s" %
              (label, {k: done["target"].get(k) for k in sources}))
        expected = RATE_HZ * DURATION_S
        check(done["samples"] >= expected / 2 and done["errors"]["failed_samples"] <= expected / 20,
              "%s: %d samples, %d failed" % (label, done["samples"], done["errors"]["failed_samples"]))
        check([t["name"] for t in done["threads_seen"]] == ["MainThread"],
              "%s: threads seen: %s" % (label, done["threads_seen"]))
        status, _, folded = daemon.request("GET", "/sessions/%s/folded" % s["id"], raw=True)
        text = folded.decode(errors="replace")
        check(status == 200 and "heavy (" in text and "light (" in text and "heavy_light.py" in text,
              "%s: the profile holds heavy() and light() of heavy_light.py" % label)
        header = folded_sources(text)
        expected = [{"pid": target.pid, "python": done["target"]["python_version"], "cwd": cwd,
                     "stdlib": standard_library}]
        check(text.startswith("# pyprofd folded stacks: lines starting with '#' are metadata\n") and header == expected,
              "%s: /folded's header names its source: %s" % (label, header))
    finally:
        target.send_signal(signal.SIGKILL)
        target.wait()


def main():
    found = interpreters(TARGET)
    libraries = standard_libraries()
    work = tempfile.mkdtemp(prefix="pyprofd-session-interpreters-")
    app = os.path.join(work, "app")
    os.mkdir(app)
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    try:
        check(len(found) > 0, "interpreters found: %d" % len(found))
        for py in found:
            session_on(daemon, py, libraries.get(py["label"]), app)
    finally:
        daemon.stop()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
