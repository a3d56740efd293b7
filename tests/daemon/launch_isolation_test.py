#!/usr/bin/env python3
"""Programs the daemon launches for sessions, against hostile ones: each is started by
nobody through the API, runs as nobody, and tries what the findings did
(tests/targets/hostile_launch.py).

- Nothing a session launched outlives it: 200 children that each call setsid and
  exit, and 50 setsid grandchildren whose parents exit first (orphans), leave no
  zombie, neither while the session runs nor after it is stopped; a double-forked
  setsid grandchild is gone when the session completes, and when the daemon is
  killed outright. All of it twice: with a cgroup per program where this host lets
  the daemon make them (the log says which; the program and its grandchild are in
  it, and it is removed afterwards), and with targets.command_cgroups off, where
  each program's keeper tracks its descendants as their subreaper.

- Launched programs start clean. With the daemon on a pseudo-terminal (as under
  `make run`), the program cannot open /dev/tty, so cannot push a command into the
  terminal with TIOCSTI, and nothing reaches the terminal; it leads a session of its
  own; its stdin is /dev/null and none of stdin, stdout, stderr is a terminal; a
  secret in the daemon's environment is not in its own, which holds PATH, LANG, HOME,
  USER and LOGNAME only; it starts in /, not the daemon's directory. What it writes
  is kept for GET /sessions/ID/output (bounded, the last 64 KiB), not written to the
  daemon's terminal; a program that dies early has the end of its output quoted in
  the session's failure.
- What a request may set: variables (env) within limits, never HOME, USER, LOGNAME or
  LD_*; a working directory (cwd), entered as nobody: one nobody may not enter fails
  the session, saying why.

Every answer is checked against openapi.yaml.

Usage: launch_isolation_test.py PYPROFD_BINARY SOURCE_DIR
"""
import ctypes
import glob
import json
import os
import pty
import pwd
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PYPROFD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_support import PYTHON, Daemon, check, processes_running, readable_copy, report  # noqa: E402
import daemon_support  # noqa: E402
from api_contract import Contract  # noqa: E402

CONTRACT = Contract(os.path.join(SOURCE, "openapi.yaml"))
NOBODY, BIN = 65534, 2
HOSTILE = readable_copy(os.path.join(SOURCE, "tests", "targets", "hostile_launch.py"))


def call(where, method, path, body=None, user=NOBODY):
    """A request as nobody (or user), its answer checked against openapi.yaml."""
    status, headers, content = daemon_support.call(where, method, path, body, user=user)
    raw = json.dumps(content) if isinstance(content, (dict, list)) else content
    CONTRACT.check(method, path, status, headers.get("Content-Type", ""), raw)
    return status, headers, content


def output_of(where, sid):
    """GET /sessions/ID/output: (status, the text, or a problem's detail)."""
    status, _, content = call(where, "GET", "/sessions/%s/output" % sid)
    return status, content if isinstance(content, str) else str(content)


def process_table():
    """{pid: (ppid, state)} of every process now."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid):
    """[(pid, state)] of every process below pid."""
    table = process_table()
    children = {}
    for child, (parent, state) in table.items():
        children.setdefault(parent, []).append((child, state))
    found, todo = [], [pid]
    while todo:
        for child, state in children.get(todo.pop(), []):
            found.append((child, state))
            todo.append(child)
    return found


# How the orphans this test reaped ended (pid: a wait status), for failures' messages.
REAPED = {}


def reap_our_orphans(keep=()):
    """This test is a subreaper (a daemon it kills leaves its keepers to it): reaps the
    children it did not start itself."""
    task = "/proc/self/task/%d/children" % os.getpid()
    with open(task) as f:
        for pid in map(int, f.read().split()):
            if pid not in keep:
                try:
                    reaped, status = os.waitpid(pid, os.WNOHANG)
                    if reaped:
                        REAPED[reaped] = status
                except ChildProcessError:
                    pass


def how_ended(status):
    """A keeper's wait status in words (it exits 10 + errno when it cannot remove its cgroup)."""
    if os.WIFSIGNALED(status):
        return "killed by signal %d" % os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    if code >= 10:
        return "exited %d: its cgroup not removed (%s)" % (code, os.strerror(code - 10))
    return "exited %d" % code


class Run:
    """A daemon launching programs for nobody, and a directory nobody may write reports to."""

    def __init__(self, work, name, targets=""):
        self.work = os.path.join(work, name)
        os.makedirs(self.work)
        os.chmod(self.work, 0o755)
        self.reports = os.path.join(self.work, "reports")
        os.makedirs(self.reports)
        os.chmod(self.reports, 0o777)
        self.marker = "pyprofd-hostile-%s-%d" % (name, os.getpid())
        path = os.path.join(self.work, "pyprofd.yaml")
        with open(path, "w") as f:
            f.write("targets: {allow_commands: true%s}\nlimits: {max_duration_s: 120}\n" % targets)
        self.config = path
        self.restart()
        self.where = "127.0.0.1:%d" % self.daemon.port
        found = re.search(r"launched programs: a cgroup each, made in (\S+)", self.daemon.log())
        self.cgroup_parent = found and found.group(1)

    def restart(self):
        """(Re)starts the daemon on the same state directory."""
        if getattr(self, "daemon", None):
            self.daemon.stop()
        self.daemon = Daemon(PYPROFD, ["--config", self.config, "--listen", "127.0.0.1:0", "--state-dir",
                                       os.path.join(self.work, "state")], os.path.join(self.work, "daemon.log"))
        self.where = "127.0.0.1:%d" % self.daemon.port

    def start(self, mode, duration_s=60):
        """Starts a session of hostile_launch.py MODE; (session, its report) once it has reported."""
        status, _, s = call(self.where, "POST", "/sessions", {"command": [PYTHON, HOSTILE, mode, self.reports, self.marker],
                                                              "rate_hz": 20, "duration_s": duration_s})
        if not check(status == 201, "%s: nobody starts a session of the hostile program: %s" % (mode, status)):
            return None, None
        path = os.path.join(self.reports, mode + ".json")
        for _ in range(300):
            if os.path.exists(path):
                with open(path) as f:
                    return s, json.load(f)
            time.sleep(0.05)
        check(False, "%s: the program reported what it found (the daemon's log: %s)" % (mode, self.daemon.log()[-2000:]))
        return s, None

    def cgroups_left(self):
        """The cgroups this run's daemon made and did not remove."""
        if not self.cgroup_parent:
            return []
        return glob.glob(os.path.join(self.cgroup_parent, "pyprofd-launch-%d-*" % self.daemon.process.pid))

    def clean_up(self):
        if self.daemon.process.poll() is None:
            self.daemon.stop()
        for cgroup in self.cgroups_left():
            with open(os.path.join(cgroup, "cgroup.kill"), "w") as f:
                f.write("1")
            for _ in range(100):
                try:
                    os.rmdir(cgroup)
                    break
                except OSError:
                    time.sleep(0.05)
        # Whatever the daemon failed to end: this test started it.
        for pid in processes_running(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def stop_session(where, daemon, sid):
    """Stops a session and waits for its end (the daemon answers 202 when that takes long)."""
    status, _, _ = call(where, "POST", "/sessions/%s/stop" % sid)
    return status in (200, 202) and daemon_support.wait_for_state(daemon, sid, {"stopped", "target_exited", "completed"})


def check_no_orphan_left(run):
    s, found = run.start("forks")
    if not found:
        return
    time.sleep(1.5)  # the orphans' 0.3 s, and more
    zombies = [pid for pid, state in descendants(run.daemon.process.pid) if state == "Z" and pid in found["orphans"]]
    check(not zombies, "orphans (setsid grandchildren whose parents exited) are reaped at once, while the session "
                       "runs: %d of %d are zombies" % (len(zombies), len(found["orphans"])))
    check(stop_session(run.where, run.daemon, s["id"]), "the session stops")
    left = descendants(run.daemon.process.pid)
    check(not left, "once stopped, nothing it launched is left, 200 setsid children included: %d processes below "
                    "the daemon (%d zombies)" % (len(left), sum(state == "Z" for _, state in left)))
    gone = [pid for pid in found["setsid_children"] + found["orphans"] + [found["pid"]] if os.path.exists("/proc/%d" % pid)]
    check(not gone, "none of its 251 processes exists: %s" % gone[:10])


def cgroup_of(pid):
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            return [line[3:].strip() for line in f if line.startswith("0::")][0]
    except (OSError, IndexError):
        return None


def check_no_survivor(run):
    s, found = run.start("escape", duration_s=2)
    if not found:
        return
    check(found.get("grandchild") and found["grandchild_sid"] != os.getsid(found["pid"]),
          "the program double-forked a grandchild into a session of its own (%s)" % found.get("grandchild"))
    daemon_cgroup = cgroup_of(run.daemon.process.pid)
    program_cgroup, grandchild_cgroup = cgroup_of(found["pid"]), cgroup_of(found.get("grandchild") or 0)
    if run.cgroup_parent:
        check(program_cgroup and re.search(r"/pyprofd-launch-%d-\d+$" % run.daemon.process.pid, program_cgroup) and
              grandchild_cgroup == program_cgroup,
              "the program and its grandchild are in a cgroup of their own: %s, %s" % (program_cgroup, grandchild_cgroup))
    else:
        check(program_cgroup == daemon_cgroup, "without cgroups the program stays in the daemon's (%s)" % program_cgroup)
    done = daemon_support.wait_for_state(run.daemon, s["id"], {"completed", "failed", "target_exited"})
    check(done and done["state"] == "completed", "the session completes (%s)" % (done and done["state"]))
    time.sleep(0.2)
    survivors = processes_running(run.marker)
    check(not survivors, "the setsid grandchild does not outlive its session: %s" % survivors)
    check(not descendants(run.daemon.process.pid), "nothing is left below the daemon")
    check(not run.cgroups_left(), "nor any cgroup it made: %s" % run.cgroups_left())

    s, found = run.start("escape")
    if not found:
        return
    run.daemon.process.kill()
    run.daemon.process.wait()
    deadline = time.time() + 10
    while processes_running(run.marker) and time.time() < deadline:
        reap_our_orphans(keep=[run.daemon.process.pid])
        time.sleep(0.05)
    survivors = processes_running(run.marker)
    check(not survivors, "nor does it outlive the daemon, killed outright: %s" % survivors)
    deadline = time.time() + 30  # the keeper waits as long for a loaded kernel to let it go
    while run.cgroups_left() and time.time() < deadline:
        reap_our_orphans(keep=[run.daemon.process.pid])
        time.sleep(0.05)
    time.sleep(0.2)
    reap_our_orphans()
    # Its keeper removes the cgroup. Twice, in CI's sanitizer runs only, a keeper was
    # gone and its cgroup (empty) was not: what is left, the next daemon removes when
    # it starts (check_leftovers_swept checks that it did). Said here, with how the
    # keepers ended.
    run.left_by_killed_daemon = run.cgroups_left()
    if run.left_by_killed_daemon:
        print("note its keeper did not remove the cgroup (the next start must): %s; the keepers reaped: %s" %
              (cgroup_state(run.left_by_killed_daemon),
               {pid: how_ended(status) for pid, status in REAPED.items()}))
    else:
        check(True, "and its keeper removes the cgroup")


def cgroup_state(paths):
    """What is known of cgroups that should have gone, and of keepers still running, for a failure's message."""
    said = []
    for path in paths:
        files = {}
        for name in ("cgroup.events", "cgroup.procs"):
            try:
                with open(os.path.join(path, name)) as f:
                    files[name] = f.read().split()
            except OSError as e:
                files[name] = str(e)
        said.append("%s %s" % (path, files))
    keepers = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() == "pyprofd-keeper":
                    keepers.append(int(p))
        except OSError:
            pass
    return "%s; keepers running: %s" % ("; ".join(said) or "none", keepers)


def check_leftovers_swept(run):
    """A daemon that starts removes the cgroups a pyprofd that no longer runs left
    behind (its keepers were killed too), killing what still ran in them; another
    running pyprofd's are not its to touch."""
    if not run.cgroup_parent:
        return
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    left_running = os.path.join(run.cgroup_parent, "pyprofd-launch-%d-0" % dead)
    left_empty = os.path.join(run.cgroup_parent, "pyprofd-launch-%d-1" % dead)
    alive = os.path.join(run.cgroup_parent, "pyprofd-launch-%d-7" % os.getpid())
    for path in (left_running, left_empty, alive):
        os.mkdir(path)
    straggler = subprocess.Popen([PYTHON, "-c", "import sys, time\nwhile True: time.sleep(1)", run.marker + "-left"],
                                 preexec_fn=lambda: open(os.path.join(left_running, "cgroup.procs"), "w").write("0"))
    left_before = getattr(run, "left_by_killed_daemon", [])
    try:
        run.restart()
        swept = re.search(r"launched programs: .*; removed (\d+) left by a pyprofd that no longer runs, killing what ran in them: (.*)",
                          run.daemon.log())
        expected = [left_running, left_empty] + left_before
        check(swept and swept.group(1) == str(len(expected)) and all(p in swept.group(2) for p in expected),
              "a restarted daemon says it removed the %d cgroups dead pyprofds left: %s" %
              (len(expected), swept and swept.group(0)))
        left = [p for p in expected if os.path.exists(p)]
        check(not left, "and they are gone" + (": " + cgroup_state(left) if left else ""))
        try:
            status = straggler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            status = None
        check(status == -signal.SIGKILL, "what still ran in one is killed: %s" % status)
        check(os.path.isdir(alive), "a cgroup named for a process that still runs is left alone")
    finally:
        if straggler.poll() is None:
            straggler.kill()
            straggler.wait()
        for path in (left_running, left_empty, alive):
            if os.path.isdir(path):
                os.rmdir(path)


def report_dir(work, name):
    """A directory nobody may write its report to."""
    path = os.path.join(work, name)
    os.makedirs(path)
    os.chmod(path, 0o777)
    return path


def wait_for_report(reports, mode, what):
    path = os.path.join(reports, mode + ".json")
    for _ in range(300):
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        time.sleep(0.05)
    check(False, "%s: the program reported what it found" % what)
    return None


class TerminalDaemon:
    """The daemon on a pseudo-terminal, as under `make run` or `sudo pyprofd serve` in a
    terminal: the terminal is its controlling one, and its stdin, stdout and stderr."""

    def __init__(self, work, environment):
        config = os.path.join(work, "pyprofd.yaml")
        with open(config, "w") as f:
            f.write("targets: {allow_commands: true}\n")
        argv = [PYPROFD, "serve", "--config", config, "--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")]
        self.pid, self.master = pty.fork()
        if self.pid == 0:
            try:
                os.chdir(work)  # where the daemon runs, not where its programs should
                os.execve(PYPROFD, argv, environment)
            finally:
                os._exit(127)
        self.bytes = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline and not self.port:
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.text())
            self.port = found and int(found.group(1))
            time.sleep(0.05)
        try:
            self.terminal = os.readlink("/proc/%d/fd/0" % self.pid)
        except OSError:
            self.terminal = None

    def read(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.bytes += chunk

    def text(self):
        with self.lock:
            return self.bytes.decode("utf-8", "replace")

    def typed_in(self):
        """What waits in the terminal's input queue (a line pushed with TIOCSTI would)."""
        fd = os.open(self.terminal, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            return os.read(fd, 4096)
        except BlockingIOError:
            return b""
        finally:
            os.close(fd)

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.time() + 10
        while time.time() < deadline and os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            time.sleep(0.05)
        else:
            if time.time() >= deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        self.reader.join(5)
        os.close(self.master)


def check_clean_start(work):
    work = os.path.join(work, "terminal")
    os.makedirs(work)
    os.chmod(work, 0o755)
    reports = report_dir(work, "reports")
    marker = "pyprofd-tty-%d" % os.getpid()
    secret = "pyprofd-test-secret-%016x" % random.getrandbits(64)
    daemon = TerminalDaemon(work, dict(os.environ, PYPROFD_TEST_SECRET=secret))
    if not check(daemon.port and daemon.terminal, "the daemon runs on a pseudo-terminal (%s)" % daemon.terminal):
        print(daemon.text()[-2000:])
        return daemon.stop()
    where = "127.0.0.1:%d" % daemon.port
    try:
        status, _, s = call(where, "POST", "/sessions", {"command": [PYTHON, HOSTILE, "tty", reports, marker],
                                                         "rate_hz": 20, "duration_s": 60})
        check(status == 201, "tty: nobody starts a session of the hostile program: %s" % status)
        found = wait_for_report(reports, "tty", "tty")
        if not found:
            return
        tiocsti = found["tiocsti"]
        check(not tiocsti["opened"], "the program cannot open /dev/tty (it has no controlling terminal), so cannot "
                                     "push a command into the daemon's with TIOCSTI: %s" % tiocsti)
        time.sleep(0.3)
        queued = daemon.typed_in()
        check(("INJECTED-BY-" + marker) not in daemon.text() and not queued,
              "nothing reaches the daemon's terminal (echoed: %s, waiting to be read: %r)" %
              (("INJECTED-BY-" + marker) in daemon.text(), queued))
        check(found["own_session"], "the program leads a session of its own")
        check(found["stdin_is_null"] and found["ttys"] == [False, False, False],
              "its stdin is /dev/null, and none of stdin, stdout, stderr is a terminal: %s" % found["ttys"])
        environ = found["environ"]
        check(secret not in json.dumps(environ), "a secret in the daemon's environment is not in the program's")
        nobody = pwd.getpwuid(NOBODY)
        check(set(environ) == {"PATH", "LANG", "HOME", "USER", "LOGNAME"} and environ["USER"] == "nobody" and
              environ["LOGNAME"] == "nobody" and environ["HOME"] == nobody.pw_dir and environ["LANG"] == "C.UTF-8" and
              environ["PATH"] == "/usr/local/bin:/usr/bin:/bin",
              "its environment is PATH, LANG, HOME, USER and LOGNAME, for nobody: %s" %
              ({k: environ[k] for k in ("PATH", "LANG", "HOME", "USER", "LOGNAME") if k in environ}
               if len(environ) <= 5 else "%d variables: %s" % (len(environ), sorted(environ))))
        check(found["cwd"] == "/", "it starts in /, not in the daemon's directory: %s" % found["cwd"])
        descriptors = {}
        for fd in os.listdir("/proc/%d/fd" % found["pid"]):
            try:
                descriptors[int(fd)] = os.readlink("/proc/%d/fd/%s" % (found["pid"], fd))
            except OSError:
                pass
        check(descriptors.get(0) == "/dev/null" and descriptors.get(1, "").startswith("pipe:") and
              descriptors.get(2) == descriptors.get(1) and
              not any(t.startswith(("/dev/pts", "/dev/tty", "socket:")) for t in descriptors.values()),
              "its descriptors: /dev/null, the output pipe, nothing of the daemon's: %s" % descriptors)
        status, output = output_of(where, s["id"])
        check(status == 200 and ("HELLO-STDOUT-" + marker) in output and ("HELLO-STDERR-" + marker) in output,
              "GET /sessions/ID/output has what it wrote to stdout and stderr: %s %r" % (status, output[:200]))
        check(("HELLO-STDOUT-" + marker) not in daemon.text() and ("HELLO-STDERR-" + marker) not in daemon.text(),
              "and none of it went to the daemon's terminal or log")
        status, _, _ = call(where, "GET", "/sessions/%s/output" % s["id"], user=BIN)
        check(status == 404, "another user gets 404 for it")
        status, _, _ = call(where, "POST", "/sessions/%s/stop" % s["id"])
        check(status in (200, 202), "the session stops")
    finally:
        daemon.stop()
        for pid in processes_running(marker):
            os.kill(pid, signal.SIGKILL)


def check_output(run):
    marker = run.marker + "-output"
    status, _, s = call(run.where, "POST", "/sessions", {"command": ["/bin/sh", "-c", "echo boom-%s >&2; exit 3" % marker],
                                                         "duration_s": 10})
    failed = daemon_support.wait_for_state(run.daemon, s["id"], {"failed", "completed", "target_exited"}, timeout=20)
    failure = (failed or {}).get("failure", "")
    check(failed and failed["state"] == "failed" and "exited with status 3" in failure and ("boom-" + marker) in failure,
          "a program that dies early: failed, its output quoted in the failure: %r" % failure)
    status, output = output_of(run.where, s["id"])
    check(status == 200 and output == "boom-%s\n" % marker, "and its output is there too: %r" % output)
    flood = "import time\nfor i in range(20000): print('line %06d' % i)\nprint('LAST-LINE', flush=True)\n" \
            "while True: time.sleep(0.01)"
    status, _, s = call(run.where, "POST", "/sessions", {"command": [PYTHON, "-c", flood], "duration_s": 60})
    output = ""
    for _ in range(200):
        status, output = output_of(run.where, s["id"])
        if "LAST-LINE" in output or status != 200:
            break
        time.sleep(0.1)
    lines = output.splitlines() or [""]
    check(len(output.encode()) <= 64 * 1024 + 200 and lines[0].startswith("[pyprofd: the first ") and
          lines[-1] == "LAST-LINE" and lines[-2] == "line 019999",
          "240 KB of output: the last 64 KiB are kept, saying so: %d bytes, %r ... %r" %
          (len(output), lines[:2], lines[-2:]))
    call(run.where, "POST", "/sessions/%s/stop" % s["id"])
    check(("line 019999") not in run.daemon.log(), "none of it in the daemon's log")
    run.restart()
    status, again = output_of(run.where, s["id"])
    check(status == 200 and again == output, "after a restart of the daemon, the output is still there (%s, %d bytes)" %
          (status, len(again)))


def check_request_fields(run):
    show = "import json, os, time\nprint(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd()}), flush=True)\n" \
           "while True: time.sleep(0.01)"

    def launched(fields):
        """What the program says its environment and directory are."""
        status, _, s = call(run.where, "POST", "/sessions", dict({"command": [PYTHON, "-c", show], "duration_s": 30}, **fields))
        if not check(status == 201, "a command with %s starts: %s" % (sorted(fields), s.get("detail") if status != 201 else "")):
            return s, None
        for _ in range(200):
            status, output = output_of(run.where, s["id"])
            if output.startswith("{"):
                call(run.where, "POST", "/sessions/%s/stop" % s["id"])
                return s, json.loads(output.splitlines()[0])
            time.sleep(0.05)
        return s, None

    s, said = launched({"env": {"APP_MODE": "profiling", "PATH": "/usr/bin:/bin"}, "cwd": run.reports})
    check(said and said["env"].get("APP_MODE") == "profiling" and said["env"]["PATH"] == "/usr/bin:/bin" and
          said["env"]["USER"] == "nobody" and set(said["env"]) == {"PATH", "LANG", "HOME", "USER", "LOGNAME", "APP_MODE"},
          "env adds a variable and replaces PATH: %s" % (said and said["env"]))
    check(said and said["cwd"] == run.reports, "cwd is its working directory: %s" % (said and said["cwd"]))
    status, _, again = call(run.where, "GET", "/sessions/" + s["id"])
    check(again["target"].get("env") == ["APP_MODE", "PATH"] and again["target"].get("cwd") == run.reports and
          "profiling" not in json.dumps(again), "the session names the variables, not their values: %s" % again["target"])

    refused = [({"env": {"LD_PRELOAD": "/tmp/x.so"}}, "env", "dynamic loader"),
               ({"env": {"HOME": "/root"}}, "env", "set by pyprofd"),
               ({"env": {"1X": "y"}}, "env", "not a variable name"),
               ({"env": {"X": 1}}, "env", "must be a string"),
               ({"env": {"V%d" % i: "x" for i in range(65)}}, "env", "limits.max_command_env_vars"),
               ({"env": {"BIG": "x" * 40000}}, "env", "limits.max_command_env_bytes"),
               ({"cwd": "relative/dir"}, "cwd", "absolute"),
               ({"env": {"A": "b"}, "pid": 1, "command": None}, "env", "not a running process")]
    for fields, field, says in refused:
        body = dict({"command": [PYTHON, "-c", show], "duration_s": 5}, **fields)
        if body.get("command") is None:
            del body["command"]
        status, _, p = call(run.where, "POST", "/sessions", body)
        check(status == 400 and p.get("field") == field and says in p.get("detail", ""),
              "%s -> 400 (field %s): %s" % (json.dumps(fields)[:60], field, p.get("detail") if isinstance(p, dict) else p))

    private = os.path.join(run.work, "private")
    os.makedirs(private)
    os.chmod(private, 0o700)
    status, _, s = call(run.where, "POST", "/sessions", {"command": [PYTHON, "-c", show], "duration_s": 5, "cwd": private})
    failed = daemon_support.wait_for_state(run.daemon, s["id"], {"failed", "completed", "target_exited"}, timeout=20)
    failure = (failed or {}).get("failure", "")
    check(failed and failed["state"] == "failed" and "as nobody: cannot enter its working directory %s: Permission denied" %
          private in failure, "a cwd nobody may not enter (root's, 0700): failed, saying why: %r" % failure)


def main():
    try:
        import pwd
        pwd.getpwuid(NOBODY)
    except KeyError:
        print("FAIL this test needs the user nobody (uid %d)" % NOBODY)
        return 1
    # A daemon killed outright leaves its keepers to us; we reap them.
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    work = tempfile.mkdtemp(prefix="pyprofd-launch-test-")
    os.chmod(work, 0o755)
    runs = []
    try:
        for name, targets in (("default", ""), ("no-cgroups", ", command_cgroups: false")):
            run = Run(work, name, targets)
            runs.append(run)
            said = re.search(r"launched programs: (.*)", run.daemon.log())
            check(said, "%s: the daemon says how it keeps launched programs in check: %s" % (name, said and said.group(1)))
            if name == "no-cgroups":
                check(not run.cgroup_parent and "targets.command_cgroups is off" in said.group(1),
                      "with targets.command_cgroups off, no cgroup")
            if name == "default":
                check_output(run)
                check_request_fields(run)
            check_no_orphan_left(run)
            check_no_survivor(run)
            if name == "default":
                check_leftovers_swept(run)
        check_clean_start(work)
    finally:
        for run in runs:
            run.clean_up()
        reap_our_orphans()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
