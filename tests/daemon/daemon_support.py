"""What the daemon's Python tests and benchmarks share: reporting checks, a real
`pyprofd serve` started on a free port, a JSON-speaking HTTP client, waiting for a
session's state, and finding processes by their command line."""
import ctypes
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

# Debian's interpreter: programs the daemon launches run as nobody, who cannot
# reach pyenv's under /root.
PYTHON = "/usr/bin/python3.11" if os.path.exists("/usr/bin/python3.11") else sys.executable

failures = []

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def ends_with_this_process(sig=signal.SIGKILL):
    """A preexec_fn for subprocess.Popen: the kernel sends the child sig when this
    process ends, however it ends (a time limit's SIGKILL, a user's kill), so a
    target or daemon never outlives the test or bench that started it. Popen from
    the main thread: the signal follows the thread that forked."""
    parent = os.getpid()
    prctl = _libc.prctl  # looked up here: the child only calls it

    def set_death_signal():
        # A parent already gone is caught by the check after.
        if prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(125)
    return set_death_signal


def finish_on_termination():
    """SIGTERM and SIGHUP end this script through its finally blocks (stopping its
    daemons, removing its files), as Ctrl-C's KeyboardInterrupt does, rather than
    at once."""
    def leave(signum, frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, leave)


def check(condition, what):
    """Prints ok or FAIL with what was checked; remembers failures for report()."""
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def report():
    print("%d failed" % len(failures))
    return 1 if failures else 0


def folded_stacks(text):
    """The stack lines of folded stacks (str or bytes), without their header: lines
    starting with '#' are metadata (the processes' sources), never stacks."""
    lines = text.splitlines()
    hash_mark = b"#" if isinstance(text, bytes) else "#"
    return [line for line in lines if not line.startswith(hash_mark)]


def folded_sources(text):
    """What the "# source:" lines of folded stacks (str) say, one dict per process."""
    prefix = "# source: "
    return [json.loads(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_served(url, timeout=20, request_timeout=2):
    """Whether url answers 200 within timeout seconds (a server still starting is asked again)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=request_timeout) as r:
                if r.status == 200:
                    return True
        except OSError:  # refused while starting, or an error status (HTTPError)
            pass
        time.sleep(0.1)
    return False


class Daemon:
    """`pyprofd serve ARGS` with its log in log_path; port is the first TCP port it
    says it listens on (ask for port 0 to get a free one)."""

    def __init__(self, binary, args, log_path, env=None, prefix=()):
        """prefix: a command the daemon runs under (unshare, say)."""
        self.log_path = log_path
        with open(log_path, "w") as log:
            # SIGTERM: a daemon whose test dies still stops its sessions and keepers.
            self.process = subprocess.Popen(list(prefix) + [binary, "serve"] + list(args), stdout=log, stderr=log, env=env,
                                            preexec_fn=ends_with_this_process(signal.SIGTERM))
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r"listening on (?:\[[^\]]*\]|[0-9.]+|localhost):(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the daemon did not start:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, raw=False):
        """(status, headers, body): the body parsed when it is JSON (unless raw), else
        bytes. A dict or list body is sent as JSON; bytes as they are."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        connection.request(method, path, body=data, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        connection.close()
        content_type = response.getheader("Content-Type") or ""
        if content and not raw and content_type.split(";")[0].endswith("json"):
            content = json.loads(content)
        return response.status, dict(response.getheaders()), content

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Its exit status, or None if it had to be killed."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


HTTP_CALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_call.py")


def call(where, method, path, body=None, headers=None, user=None, prefix=()):
    """(status, headers, body) of one request made by another process: as `user` (a uid;
    its group is the user's own, from the user database), under `prefix` (nsenter, say).
    where is "HOST:PORT" or "unix:PATH". A JSON body is parsed; a dict body is sent as JSON."""
    import pwd
    command = list(prefix)
    if user is not None:  # after the prefix, which may need root (nsenter)
        command += ["setpriv", "--reuid=%d" % user, "--regid=%d" % pwd.getpwuid(user).pw_gid, "--clear-groups"]
    command += [PYTHON, readable_copy(HTTP_CALL)]
    command += ["--unix", where[5:]] if where.startswith("unix:") else ["--tcp", where]
    command += [method, path]
    for name, value in (headers or {}).items():
        command += ["--header", "%s:%s" % (name, value)]
    if body is not None:
        command += ["--body", body if isinstance(body, str) else json.dumps(body)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")
    if done.returncode != 0:
        raise RuntimeError("http_call failed: " + done.stderr)
    answer = json.loads(done.stdout)
    content = answer["body"]
    if content and (answer["headers"].get("Content-Type") or "").split(";")[0].endswith("json"):
        content = json.loads(content)
    return answer["status"], answer["headers"], content


def wait_for_state(daemon, sid, states, timeout=30):
    """The session once its state is one of states, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, s = daemon.request("GET", "/sessions/" + sid)
        if status == 200 and s["state"] in states:
            return s
        time.sleep(0.1)
    return None


def uid_of(pid):
    """The real uid a process runs as, or None."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def processes_running(text):
    """PIDs whose command line holds text."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


_readable_dir = None


def readable_copy(path):
    """A copy of a script in a directory anyone may read: programs the daemon launches
    run as nobody, and a checkout may sit where nobody cannot look (a 0700 /tmp/x,
    /root)."""
    import shutil
    import tempfile
    global _readable_dir
    if _readable_dir is None:
        import atexit
        _readable_dir = tempfile.mkdtemp(prefix="pyprofd-readable-")
        os.chmod(_readable_dir, 0o755)
        atexit.register(shutil.rmtree, _readable_dir, True)
    copy = os.path.join(_readable_dir, os.path.basename(path))
    shutil.copyfile(path, copy)
    os.chmod(copy, 0o644)
    return copy
