#!/usr/bin/env python3
"""uWSGI's workers: Debian's uwsgi embeds Python in a non-Python executable and forks
its workers from the master without the interpreter's after-fork hook, so a
worker's thread state still holds the master's TID. pyprofd must show each worker
with its own TID and a true activity (idle when it waits, running under load), and
a session on a worker under load must show the application's function.

Runs a master and 2 workers serving tests/targets/wsgi_burn.py on 127.0.0.1 (a free
port), from a temporary directory, in a process group of their own that is killed
at the end whatever happens.

Usage: uwsgi_worker_test.py PYPROFD_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
from daemon_support import Daemon, check, folded_stacks, free_port, processes_running, report, wait_for_state, wait_until_served  # noqa: E402

APP = os.path.join(SOURCE, "tests/targets/wsgi_burn.py")
PLUGIN = "/usr/lib/uwsgi/plugins/python3_plugin.so"


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []




def dump(pid):
    done = subprocess.run([PYPROFD, "dump", "--pid", str(pid), "--json"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        print("pyprofd dump %d: %s" % (pid, done.stderr.strip()), flush=True)
        return None
    return json.loads(done.stdout)


def dump_until(pid, ready, timeout=10):
    """The first dump of pid for which ready holds, or the last one."""
    deadline = time.time() + timeout
    while True:
        d = dump(pid)
        if (d and ready(d)) or time.time() > deadline:
            return d
        time.sleep(0.1)


def only_thread(d):
    return d["threads"][0] if d and len(d["threads"]) == 1 else {}


def check_idle_workers(master, workers):
    for worker in workers:
        d = dump_until(worker, lambda d: only_thread(d).get("activity") == "idle")
        t = only_thread(d)
        check(t.get("native_id") == worker,
              "worker %d: its one thread has the worker's TID, not the master's PID %d (%s)" % (worker, master, t.get("native_id")))
        check(t.get("activity") == "idle", "worker %d: waiting for a request, it is idle (%s)" % (worker, t.get("activity")))
    d = dump(master)
    check(d and any(t["native_id"] == master for t in d["threads"]), "the master: its main thread has its own PID")


def check_loaded_worker(worker, port):
    load = subprocess.Popen(["ab", "-q", "-c", "4", "-t", "8", "-n", "1000000", "http://127.0.0.1:%d/" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        d = dump_until(worker, lambda d: only_thread(d).get("activity") == "running" and
                       any(f["function"] == "burn_cpu" for f in only_thread(d).get("frames", [])))
        t = only_thread(d)
        check(t.get("native_id") == worker and t.get("activity") == "running" and
              any(f["function"] == "burn_cpu" for f in t.get("frames", [])),
              "worker %d under load: its TID, running, in burn_cpu (%s, %s, %s)" %
              (worker, t.get("native_id"), t.get("activity"), [f["function"] for f in t.get("frames", [])]))

        work = tempfile.mkdtemp(prefix="pyprofd-uwsgi-daemon-")
        daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                        os.path.join(work, "daemon.log"))
        try:
            status, _, session = daemon.request("POST", "/sessions", {"pid": worker, "rate_hz": 200, "duration_s": 3})
            if not check(status == 201, "a session on worker %d starts (%s %s)" % (worker, status, session)):
                return
            done = wait_for_state(daemon, session["id"], {"completed", "stopped", "target_exited", "failed"}, 30)
            check(done and done["state"] == "completed", "the session completes (%s)" % (done and done["state"]))
            seen = (done or {}).get("threads_seen", [])
            check([t["tid"] for t in seen] == [worker],
                  "the session's one thread is the worker's own (%s)" % seen)
            _, _, folded = daemon.request("GET", "/sessions/%s/folded" % session["id"], raw=True)
            lines = folded_stacks(folded.decode())
            total = sum(int(line.rsplit(" ", 1)[1]) for line in lines)
            burning = sum(int(line.rsplit(" ", 1)[1]) for line in lines if "burn_cpu (" in line)
            check(burning > 100 and burning >= total * 8 // 10,
                  "the worker's profile is the application's burn_cpu (%d of %d samples)" % (burning, total))
        finally:
            daemon.stop()
            shutil.rmtree(work, True)
    finally:
        load.kill()
        load.wait()


def main():
    for tool in ("uwsgi", "ab"):
        if not shutil.which(tool):
            print("FAIL %s is needed (uwsgi-core, apache2-utils in scripts/deps-test.txt)" % tool)
            return 1
    if not os.path.exists(PLUGIN):
        print("FAIL %s is needed (uwsgi-plugin-python3 in scripts/deps-test.txt)" % PLUGIN)
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-uwsgi-test-")
    shutil.copy(APP, work)
    port = free_port()
    uwsgi = subprocess.Popen(["uwsgi", "--plugins", "python3", "--master", "--processes", "2",
                              "--http-socket", "127.0.0.1:%d" % port, "--chdir", work, "--wsgi-file", "wsgi_burn.py",
                              "--die-on-term", "--disable-logging"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "uwsgi.log"), "w"),
                             start_new_session=True)
    try:
        if not check(wait_until_served("http://127.0.0.1:%d/" % port, request_timeout=5), "uWSGI serves the application on 127.0.0.1:%d" % port):
            with open(os.path.join(work, "uwsgi.log")) as f:
                print(f.read())
            return report()
        workers = children_of(uwsgi.pid)
        if not check(len(workers) == 2, "a master and 2 workers (%d: %s)" % (uwsgi.pid, workers)):
            return report()
        check_idle_workers(uwsgi.pid, workers)
        check_loaded_worker(workers[0], port)
    finally:
        # The master, its workers and whatever they started: their own process group.
        try:
            os.killpg(uwsgi.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        uwsgi.wait()
        deadline = time.time() + 5
        while processes_running(work) and time.time() < deadline:
            time.sleep(0.05)
        check(not processes_running(work), "nothing of uWSGI is left running")
        shutil.rmtree(work, True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
