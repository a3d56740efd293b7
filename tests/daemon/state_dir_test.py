#!/usr/bin/env python3
"""The state directory is trusted at every start, so the daemon checks it:
- it refuses to start where another user could write on the way to it (a parent
  anyone may write to, without the sticky bit), or where it belongs to another user;
- it makes its own directories owner-only (a 0755 one from before becomes 0700);
- a session file or profile that is a symbolic link (planted by someone who could
  write there once) is not followed: a root-only file's contents are never served,
  and the rest of the sessions load.

Usage: state_dir_test.py PYPROFD_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

PYPROFD = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, report, wait_for_state  # noqa: E402

RECORD = {"id": "00000000000000b1", "name": "planted", "owner": {"id": "uid:0", "name": "root"}, "state": "completed",
          "target": {"pid": 1, "command_line": ["x"], "python_version": "3.11.7"},
          "options": {"rate_hz": 100, "duration_s": 1, "idle": False, "gil_only": False, "threads": False,
                      "function": False, "blocking": False},
          "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "ended_at": None, "elapsed_s": 1.0,
          "samples": 1, "samples_expected": 1, "errors": {"failed_samples": 0, "thread_errors": 0},
          "lag_ms": {"max": 0.0, "mean": 0.0}, "threads_seen": []}


def serve(state):
    return subprocess.run([PYPROFD, "serve", "--listen", "127.0.0.1:0", "--state-dir", state],
                          capture_output=True, text=True, timeout=20)


def main():
    work = tempfile.mkdtemp(prefix="pyprofd-state-dir-")
    try:
        open_parent = os.path.join(work, "open")
        os.mkdir(open_parent)
        os.chmod(open_parent, 0o777)
        r = serve(os.path.join(open_parent, "state"))
        check(r.returncode != 0 and "may be written by others (mode 777)" in r.stderr,
              "a parent anyone may write to: refused: %s" % r.stderr.strip()[-160:])

        theirs = os.path.join(work, "theirs")
        os.mkdir(theirs)
        os.chown(theirs, 65534, 65534)
        r = serve(theirs)
        check(r.returncode != 0 and "belongs to uid 65534" in r.stderr, "a state directory of another user: refused")

        state = os.path.join(work, "state")
        os.makedirs(os.path.join(state, "sessions"))
        os.chmod(state, 0o755)
        secret = os.path.join(work, "root-only")
        with open(secret, "w") as f:
            f.write("main (SECRET-OF-ROOT:1) 1\n")
        os.chmod(secret, 0o600)
        sessions = os.path.join(state, "sessions")
        with open(os.path.join(sessions, RECORD["id"] + ".json"), "w") as f:
            json.dump(RECORD, f)
        os.symlink(secret, os.path.join(sessions, RECORD["id"] + ".folded"))
        linked = dict(RECORD, id="00000000000000b2")
        real_record = os.path.join(work, "record.json")
        with open(real_record, "w") as f:
            json.dump(linked, f)
        os.symlink(real_record, os.path.join(sessions, linked["id"] + ".json"))

        daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", state], os.path.join(work, "daemon.log"))
        try:
            check(oct(os.stat(state).st_mode & 0o777) == "0o700" and
                  oct(os.stat(sessions).st_mode & 0o777) == "0o700", "its directories are made owner-only")
            status, _, folded = daemon.request("GET", "/sessions/%s/folded" % RECORD["id"], raw=True)
            check(status == 200 and b"SECRET-OF-ROOT" not in folded,
                  "a profile planted as a link to a root-only file is not served (%d: %r)" % (status, folded[:60]))
            check("a symbolic link, not followed" in daemon.log(), "and the log says why")
            status, _, _ = daemon.request("GET", "/sessions/" + linked["id"])
            check(status == 404, "a session record that is a link is skipped")
            target = subprocess.Popen([PYTHON, "-c", "import time; print('READY', flush=True); time.sleep(30)"],
                                      stdout=subprocess.PIPE)
            target.stdout.readline()
            os.umask(0o022)
            status, _, s = daemon.request("POST", "/sessions", {"pid": target.pid, "duration_s": 0.3, "idle": True})
            done = wait_for_state(daemon, s["id"], {"completed"})
            target.kill()
            target.wait()
            modes = {name: oct(os.stat(os.path.join(sessions, s["id"] + name)).st_mode & 0o777) for name in (".json", ".folded")}
            check(done is not None and set(modes.values()) == {"0o600"},
                  "its files are owner-only whatever the umask: %s" % modes)
        finally:
            daemon.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
