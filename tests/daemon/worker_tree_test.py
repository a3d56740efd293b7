#!/usr/bin/env python3
"""Worker trees (`subprocesses`): a session on a server's master samples its workers,
each under a root frame "process PID (command line)", also the workers that start
while it runs, and leaves nothing attached or paused when it ends.

- Debian's gunicorn serving the Flask app under ab: the app's request handling
  (Flask's wsgi_app) appears under a worker's process root; with --max-requests 50, workers that started after the
  session began are sampled (in the session's JSON and in the root frames); after
  the session, blocking mode too, no process of the tree is traced or stopped.
  The daemon's CPU time per process sample is printed (a figure, not a check).
- A multiprocessing.Pool: its workers' pool_work appears.
- A fork without exec (`pyprofd record --subprocesses`): the child's function
  appears; a child that is no Python (sleep) is passed over silently.
- A child its caller may not profile (nobody's, made undumpable) is skipped and
  counted, never sampled; the caller's other child is sampled.
- uWSGI, master and 2 workers: the app's function appears in a worker.
- --max-processes bounds what is followed, and says so.

Usage: worker_tree_test.py PYPROFD_BINARY SOURCE_DIR
"""
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
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
import daemon_support  # noqa: E402
from api_contract import Contract  # noqa: E402
from daemon_support import PYTHON, Daemon, check, folded_sources, folded_stacks, free_port, readable_copy, report, wait_for_state, wait_until_served  # noqa: E402

TARGETS = os.path.join(SOURCE, "tests", "targets")
CONTRACT = Contract(os.path.join(SOURCE, "openapi.yaml"))
ENDED = {"completed", "stopped", "target_exited", "failed"}
NOBODY = 65534
started = []  # every process this test starts, ended in the end whatever happens


def request(daemon, method, path, body=None):
    """A request to the daemon, its answer checked against openapi.yaml."""
    status, headers, content = daemon.request(method, path, body)
    raw = json.dumps(content) if isinstance(content, (dict, list)) else content
    CONTRACT.check(method, path, status, headers.get("Content-Type", ""), raw)
    return status, headers, content


def start(command, **kwargs):
    p = subprocess.Popen(command, start_new_session=True, **kwargs)
    started.append(p)
    return p


def end_all():
    for p in started:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # its process group: the workers too
            except ProcessLookupError:
                pass
            p.wait()


def descendants(root):
    """The PIDs below root now (by /proc's parent links)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def traced_or_stopped(pids):
    """Those of pids that a tracer holds or that are stopped, with what /proc says."""
    held = []
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    status = dict(line.split(":", 1) for line in f if ":" in line)
                tracer, state = int(status["TracerPid"]), status["State"].split()[0]
                if tracer != 0 or state in ("t", "T"):
                    held.append("%d/%s: TracerPid %d, state %s" % (pid, tid, tracer, state))
        except OSError:
            pass  # gone
    return held


def process_roots(folded, function):
    """PIDs of the process roots over stacks holding function (or over any stack, with None)."""
    pids = set()
    for line in folded_stacks(folded):
        m = re.match(r"process (\d+) \(", line)
        if m and (function is None or ";%s (" % function in line):
            pids.add(int(m.group(1)))
    return pids




def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def session_on(daemon, body, timeout=60, at_start=None):
    """The session when it ended, and its folded stacks. at_start, a set, gets the
    target's descendants at the session's start: those before it was asked for and
    those once it answered."""
    root = body["pid"]
    if at_start is not None:
        at_start.update(descendants(root))
    status, _, s = request(daemon, "POST", "/sessions", body)
    if at_start is not None:
        at_start.update(descendants(root))
    if not check(status == 201, "a session with subprocesses starts: %s %s" % (status, s if status != 201 else "")):
        return None, None
    done = wait_for_state(daemon, s["id"], ENDED, timeout)
    status, _, done = request(daemon, "GET", "/sessions/" + s["id"])
    _, _, folded = daemon.request("GET", "/sessions/%s/folded" % s["id"])
    return done, folded.decode() if isinstance(folded, bytes) else folded


def session_under_load(daemon, url, load_seconds, body, at_start=None):
    """session_on(body) while ab puts url under load (4 at a time, for load_seconds,
    begun half a second before the session); the load ends with the session."""
    load = start(["ab", "-q", "-t", str(load_seconds), "-n", "1000000", "-c", "4", url], stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        return session_on(daemon, body, at_start=at_start)
    finally:
        load.kill()
        load.wait()


def check_gunicorn(daemon, work):
    port = free_port()
    url = "http://127.0.0.1:%d/name/world.json" % port
    master = start(["gunicorn", "--bind", "127.0.0.1:%d" % port, "--workers", "2", "--max-requests", "50",
                    "--chdir", TARGETS, "--log-level", "warning", "flask_app:app"],
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "gunicorn.log"), "w"))
    if not check(wait_until_served(url), "gunicorn serves the Flask app"):
        return
    for blocking in (False, True):
        mode = "blocking" if blocking else "non-blocking"
        before = set()
        done, folded = session_under_load(daemon, url, 12, {"pid": master.pid, "subprocesses": True, "rate_hz": 100,
                                                            "duration_s": 6, "blocking": blocking}, at_start=before)
        if done is None:
            return
        check(done["state"] == "completed", "%s: the session on gunicorn's master completes: %s %s" %
              (mode, done["state"], done.get("failure", "")))
        processes = done.get("processes", [])
        check(bool(processes) and processes[0]["pid"] == master.pid and "parent" not in processes[0],
              "%s: the session's JSON lists the master first" % mode)
        sampled = {p["pid"] for p in processes if p["samples"] > 0}
        # The app's handler is a sliver of each request: at 100 Hz for 6 s on a host
        # loaded by other tests it was once missed. Flask's wsgi_app, which calls it,
        # spans the whole request; the handler itself is looked for and reported.
        workers_with_handler = process_roots(folded, "Flask.wsgi_app") - {master.pid}
        check(bool(workers_with_handler), "%s: the app's request handling (Flask's wsgi_app) appears under a "
              "worker's process root: %s" % (mode, sorted(workers_with_handler)))
        print("%s: hello_world itself seen under workers %s" %
               (mode, sorted(process_roots(folded, "hello_world") - {master.pid})))
        check(workers_with_handler <= sampled, "%s: and those workers are in the session's JSON" % mode)
        newer = sampled - before - {master.pid}
        check(bool(newer & process_roots(folded, None)),
              "%s: workers started after the session began (recycled under --max-requests 50) are sampled and "
              "have root frames: %s of %d processes listed" % (mode, sorted(newer), len(processes)))
        check(all(p["python_version"].startswith("3.") for p in processes if p["samples"] > 0),
              "%s: each with its Python version" % mode)
        check(done["errors"].get("failed_processes") == 0, "%s: no process failed: %s" %
              (mode, [p for p in processes if p["state"] == "failed"]))
        time.sleep(0.2)
        tree = [master.pid] + descendants(master.pid)
        held = traced_or_stopped(tree)
        check(held == [], "%s: after the session, no process of the tree is traced or stopped: %s" % (mode, held))



def measure_cost(daemon, work):
    """The figure: the daemon's CPU per process sample, gunicorn with 4 workers at 100 Hz."""
    port = free_port()
    url = "http://127.0.0.1:%d/name/world.json" % port
    master = start(["gunicorn", "--bind", "127.0.0.1:%d" % port, "--workers", "4", "--chdir", TARGETS,
                    "--log-level", "warning", "flask_app:app"],
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "gunicorn4.log"), "w"))
    if not check(wait_until_served(url), "gunicorn with 4 workers serves the Flask app"):
        return
    cpu_before = cpu_seconds(daemon.process.pid)
    done, _ = session_under_load(daemon, url, 14, {"pid": master.pid, "subprocesses": True, "rate_hz": 100,
                                                   "duration_s": 10})
    cpu = cpu_seconds(daemon.process.pid) - cpu_before
    if done:
        samples = sum(p["samples"] for p in done["processes"])
        print("figure: gunicorn master + 4 workers (%d processes), 100 Hz, 10 s, under ab: %d process samples, "
              "daemon CPU %.2f s = %.1f us per process sample, %.1f%% of a core" %
              (len(done["processes"]), samples, cpu, 1e6 * cpu / max(samples, 1), 100 * cpu / 10))


def check_sources(what, sources, pids):
    """Each of pids has its source, working in TARGETS, with Debian's standard library."""
    by_pid = {s.get("pid"): s for s in sources}
    expected = {"working_directory": os.path.realpath(TARGETS), "standard_library": "/usr/lib/python3.11"}
    got = {pid: {k: by_pid.get(pid, {}).get(k) for k in expected} for pid in pids}
    check(all(g == expected for g in got.values()),
          "%s: each process's working directory and standard library: %s" % (what, got))


def check_pool(daemon):
    # Started in TARGETS, which its workers inherit as their working directory.
    pool = start([PYTHON, os.path.join(TARGETS, "pool_workers.py"), "2"], stdout=subprocess.PIPE, text=True,
                 cwd=TARGETS)
    workers = [int(w) for w in pool.stdout.readline().split()[1:]]
    done, folded = session_on(daemon, {"pid": pool.pid, "subprocesses": True, "rate_hz": 100, "duration_s": 3})
    if done is None:
        return
    check_sources("the session's processes", done["processes"], [pool.pid] + workers)
    header = [{"pid": s["pid"], "working_directory": s["cwd"], "standard_library": s["stdlib"]}
              for s in folded_sources(folded)]
    check(header and header[0]["pid"] == pool.pid, "/folded's header: the target first: %s" % header[:1])
    check_sources("/folded's header", header, [pool.pid] + workers)
    with_work = process_roots(folded, "pool_work")
    check(bool(with_work) and with_work <= set(workers),
          "multiprocessing.Pool: pool_work appears under its workers' process roots: %s of %s" %
          (sorted(with_work), workers))
    check(pool.pid not in with_work, "and not under the parent's, which only waits")


def check_process_limit(work):
    """limits.max_session_processes: a session follows at most that many, and counts the rest."""
    config = os.path.join(work, "limit.yaml")
    with open(config, "w") as f:
        f.write("limits: {max_session_processes: 2}\n")
    daemon = Daemon(PYPROFD, ["--config", config, "--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state2")],
                    os.path.join(work, "daemon2.log"))
    try:
        pool = start([PYTHON, os.path.join(TARGETS, "pool_workers.py"), "3"], stdout=subprocess.PIPE, text=True)
        pool.stdout.readline()
        done, folded = session_on(daemon, {"pid": pool.pid, "subprocesses": True, "rate_hz": 100, "duration_s": 1})
        if done is None:
            return
        check(len(process_roots(folded, None)) <= 2 and len(done["processes"]) == 2,
              "limits.max_session_processes 2: the session follows 2 processes: %s" % sorted(process_roots(folded, None)))
        check(done["processes_skipped"]["over_limit"] >= 2, "and counts the others: %s" % done["processes_skipped"])
        check("the most allowed (limits.max_session_processes)" in daemon.log(), "and says so in its log")
    finally:
        daemon.stop(signal.SIGTERM, 30)


def check_uwsgi(daemon, work):
    if not os.path.exists("/usr/lib/uwsgi/plugins/python3_plugin.so"):
        check(False, "uWSGI's python3 plugin is installed (uwsgi-core, uwsgi-plugin-python3: scripts/deps-test.txt)")
        return
    port = free_port()
    url = "http://127.0.0.1:%d/name/world.json" % port
    master = start(["uwsgi", "--plugin", "python3", "--master", "--processes", "2", "--http-socket",
                    "127.0.0.1:%d" % port, "--chdir", TARGETS, "--module", "flask_app:app", "--disable-logging",
                    "--die-on-term"],
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "uwsgi.log"), "w"))
    if not check(wait_until_served(url), "uWSGI serves the Flask app"):
        return
    done, folded = session_under_load(daemon, url, 8, {"pid": master.pid, "subprocesses": True, "rate_hz": 100,
                                                       "duration_s": 4})
    if done is None:
        return
    workers = set(descendants(master.pid))
    with_handler = process_roots(folded, "hello_world")
    check(bool(with_handler) and with_handler <= workers,
          "uWSGI: hello_world appears under a worker's process root: %s (workers %s); %s" %
          (sorted(with_handler), sorted(workers), [(p["pid"], p["state"], p["samples"]) for p in done["processes"]]))


def check_not_permitted(daemon):
    """nobody profiles its own process; its undumpable child is out of its reach."""
    target = start([PYTHON, readable_copy(os.path.join(TARGETS, "forked_child.py")), "--undumpable"],
                   stdout=subprocess.PIPE, text=True, user=NOBODY, group=NOBODY, extra_groups=[], cwd="/")
    words = target.stdout.readline().split()
    allowed, undumpable, sleeper = int(words[1]), int(words[2]), int(words[3])
    where = "127.0.0.1:%d" % daemon.port
    status, _, s = daemon_support.call(where, "POST", "/sessions",
                                       {"pid": target.pid, "subprocesses": True, "rate_hz": 100, "duration_s": 2},
                                       user=NOBODY)
    if not check(status == 201, "nobody starts a session with subprocesses on its own process: %s" % status):
        return
    done = None
    for _ in range(100):
        status, _, done = daemon_support.call(where, "GET", "/sessions/" + s["id"], user=NOBODY)
        if done.get("state") in ENDED:
            break
        time.sleep(0.1)
    _, _, folded = daemon_support.call(where, "GET", "/sessions/%s/folded" % s["id"], user=NOBODY)
    pids = {p["pid"] for p in done["processes"]}
    check(undumpable not in pids and "undumpable_child_work" not in folded,
          "a child its caller may not profile (undumpable) is never sampled")
    check(done["processes_skipped"]["not_permitted"] >= 1, "and is counted: %s" % done["processes_skipped"])
    check(allowed in process_roots(folded, "forked_child_work"), "the caller's other child is sampled")
    check(sleeper not in pids and done["errors"]["failed_processes"] == 0,
          "a child that is no Python (sleep) is passed over silently: %s" % done["processes"])


def check_record(work):
    """`pyprofd record --subprocesses`: a fork without exec, and --max-processes."""
    target = start([PYTHON, os.path.join(TARGETS, "forked_child.py")], stdout=subprocess.PIPE, text=True,
                   cwd=TARGETS)
    words = target.stdout.readline().split()
    child, sleeper = int(words[1]), int(words[2])
    out = os.path.join(work, "forked.folded")
    done = subprocess.run([PYPROFD, "record", "--pid", str(target.pid), "--subprocesses", "--duration", "2",
                           "--format", "folded", "-o", out], capture_output=True, text=True, timeout=60)
    check(done.returncode == 0, "record --subprocesses on a process that forked: exit %d %s" %
          (done.returncode, done.stderr[-300:]))
    with open(out) as f:
        folded = f.read()
    check(child in process_roots(folded, "forked_child_work"),
          "record: the forked child's function appears under its process root")
    header = [{"pid": s["pid"], "working_directory": s["cwd"], "standard_library": s["stdlib"]}
              for s in folded_sources(folded)]
    check([s["pid"] for s in header] == [target.pid, child], "record's header: the target, then its child: %s" % header)
    check_sources("record's header", header, [target.pid, child])
    check(target.pid in process_roots(folded, "parent_waits") or target.pid in process_roots(folded, None) or
          "parent_waits" not in folded, "record: the parent's samples under its own root, if any")
    check(sleeper not in process_roots(folded, None) and "could not be sampled" not in done.stderr,
          "record: the child that is no Python is passed over silently")
    check(re.search(r"sampled 2 processes: %d \(\d+ samples\), %d" % (target.pid, child), done.stderr) is not None,
          "record says which processes it sampled: %s" % done.stderr.strip().splitlines()[-3:])

    pool = start([PYTHON, os.path.join(TARGETS, "pool_workers.py"), "3"], stdout=subprocess.PIPE, text=True)
    pool.stdout.readline()
    out = os.path.join(work, "pool.folded")
    done = subprocess.run([PYPROFD, "record", "--pid", str(pool.pid), "--subprocesses", "--max-processes", "2",
                           "--duration", "1", "--format", "folded", "-o", out], capture_output=True, text=True,
                          timeout=60)
    with open(out) as f:
        roots = process_roots(f.read(), None)
    check(done.returncode == 0 and len(roots) <= 2, "--max-processes 2: at most 2 processes sampled: %s" % sorted(roots))
    check("were left alone" in done.stderr and "(--max-processes)" in done.stderr,
          "and the rest are counted and said: %s" % done.stderr.strip().splitlines()[-1:])


def main():
    for tool in ("gunicorn", "ab", "uwsgi"):
        if not shutil.which(tool):
            print("FAIL %s is needed (scripts/deps-test.txt; `make test` installs it)" % tool)
            return 1
    work = tempfile.mkdtemp(prefix="pyprofd-worker-tree-test-")
    os.chmod(work, 0o755)
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    try:
        check_gunicorn(daemon, work)
        end_all()
        measure_cost(daemon, work)
        end_all()
        check_pool(daemon)
        check_process_limit(work)
        end_all()
        check_uwsgi(daemon, work)
        check_not_permitted(daemon)
        check_record(work)
    finally:
        end_all()
        daemon.stop(signal.SIGTERM, 30)
        if daemon_support.failures:
            print(daemon.log()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
