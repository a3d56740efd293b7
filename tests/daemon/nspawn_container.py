"""A Debian 12 container with systemd as PID 1, for testing the unit under a real
systemd: its root is made once by debootstrap and cached (remade when the package
list changes), and each boot runs on a throw-away overlay of it
(systemd-nspawn --volatile=overlay), so the cache never changes.

What the host keeps of a run: nothing. debootstrap and systemd-nspawn run in a
mount namespace of their own with a private /run (nspawn keeps its locks and
mount-propagation directories there); on a host whose PID 1 is not systemd the
container lives in cgroups made for it, removed after; the container has no
network but its loopback (--private-network); and stop() ends it, also when the
test fails (use it as a context manager)."""
import fcntl
import glob
import os
import re
import shutil
import signal
import subprocess
import time

from daemon_support import ends_with_this_process

SUITE = "bookworm"
# On top of debootstrap's minbase (which has libc, libstdc++ and zlib): systemd as
# PID 1 and its bus; python3 to profile (the test's HTTP client runs on it too);
# what pyprofd links against beyond minbase (ldd build/pyprofd).
PACKAGES = ["systemd", "dbus", "python3", "libspdlog1.10", "libfmt9", "libyaml-cpp0.7"]
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Unavailable(Exception):
    """The container cannot be made or booted here; the message says why."""


def _in_private_run(argv):
    """argv in a mount namespace of its own whose /run is an empty tmpfs."""
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            'mount -t tmpfs -o mode=0755 pyprofd-test-run /run && exec "$@"', "sh"] + argv


def debian_mirror():
    """The Debian archive apt uses here (one-line or deb822 sources)."""
    texts = []
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) + \
            sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            with open(path) as f:
                texts.append(f.read())
        except OSError:
            pass
    for text in texts:
        for m in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+" + SUITE + r"\s", text, re.M):
            return m.group(1)
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M | re.I)
            suites = re.search(r"^Suites:\s*(.*)$", stanza, re.M | re.I)
            enabled = re.search(r"^Enabled:\s*no", stanza, re.M | re.I)
            if uris and suites and SUITE in suites.group(1).split() and not enabled:
                return uris.group(1)
    return "http://deb.debian.org/debian"


def cached_root(cache_dir, log):
    """The container root under cache_dir, made if missing or made from another
    package list. Returns (path, seconds spent making it, or 0 if cached)."""
    os.makedirs(cache_dir, exist_ok=True)
    root = os.path.join(cache_dir, "root")
    stamp_path = os.path.join(cache_dir, "stamp")
    mirror = debian_mirror()
    stamp = "debootstrap --variant=minbase --include=%s %s (%s)\n" % (",".join(PACKAGES), SUITE, mirror)
    with open(os.path.join(cache_dir, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time
        try:
            with open(stamp_path) as f:
                if f.read() == stamp and os.path.exists(os.path.join(root, "usr/lib/systemd/systemd")):
                    return root, 0.0
        except OSError:
            pass
        started = time.monotonic()
        for old in (root, root + ".new"):
            if os.path.lexists(old):
                _refuse_mount_points_under(old)
                shutil.rmtree(old)
        if os.path.exists(stamp_path):
            os.unlink(stamp_path)
        command = ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES)]
        if os.path.exists(KEYRING):
            command.append("--keyring=" + KEYRING)
        command += [SUITE, root + ".new", mirror]
        with open(log, "w") as out:
            made = subprocess.run(_in_private_run(command), stdout=out, stderr=subprocess.STDOUT, timeout=1200)
        if made.returncode != 0:
            with open(log) as f:
                tail = f.read()[-1500:]
            shutil.rmtree(root + ".new", ignore_errors=True)
            raise Unavailable("debootstrap failed (exit %d; log %s):\n%s" % (made.returncode, log, tail))
        os.rename(root + ".new", root)
        with open(stamp_path, "w") as f:
            f.write(stamp)
        return root, time.monotonic() - started


def _refuse_mount_points_under(path):
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mount_point = line.split()[4]
            if mount_point == real or mount_point.startswith(real + "/"):
                raise Unavailable("%s has a file system mounted on it (%s): not removing it" % (path, mount_point))


def _cgroup_parents():
    """(path of our own cgroup in each hierarchy nspawn uses)"""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            if hierarchy == "0":
                own["cgroup2"] = path
            elif "name=systemd" in controllers.split(","):
                own["systemd"] = path
    parents = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.rstrip("\n").split(" - ", 1)
            fields, (fstype, _source, options) = left.split(), right.split()[:3]
            mount_root, mount_point = fields[3], fields[4]
            kind = "cgroup2" if fstype == "cgroup2" else "systemd" if fstype == "cgroup" and "name=systemd" in options.split(",") else None
            if kind is None or kind not in own:
                continue
            relative = os.path.relpath(own[kind], mount_root)
            if relative.startswith(".."):
                continue  # our cgroup is outside this mount's view
            parents.append(os.path.normpath(os.path.join(mount_point, relative)))
    return parents


def _remove_cgroup_tree(path):
    for directory, _subdirs, _files in sorted(os.walk(path), key=lambda entry: -len(entry[0])):
        try:
            os.rmdir(directory)
        except OSError:
            pass
    return not os.path.exists(path)


class Container:
    """A boot of root: `with Container(root, name, log) as c:` boots it; c.run() runs
    a command inside (as root or as a user); c.host_path() is a path into its file
    system from the host. Leaving the block ends it."""

    def __init__(self, root, name, log_path):
        self.root, self.name, self.log_path = root, name, log_path
        self.nspawn = None
        self.leader = None
        self.cgroups = []

    def __enter__(self):
        try:
            self.boot()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.ended_cleanly = self.stop()
        return False

    def _cgroups_for_nspawn(self):
        """Without systemd as PID 1 nobody hands nspawn a cgroup: it puts the
        container beside itself, in cgroups made here for it (and removed by stop)."""
        if os.path.isdir("/run/systemd/system"):
            # systemd as PID 1: a scope of its own, whose cgroup it may manage.
            return ["systemd-run", "--scope", "--quiet", "--collect", "-p", "Delegate=yes", "--unit", self.name]
        for parent in _cgroup_parents():
            # Those a killed earlier run left behind.
            for stale in glob.glob(os.path.join(parent, "pyprofd-container-test-*")):
                pid = stale.rsplit("-", 1)[1]
                if pid.isdigit() and not os.path.exists("/proc/" + pid):
                    _remove_cgroup_tree(stale)
            path = os.path.join(parent, "%s" % self.name)
            os.makedirs(path, exist_ok=True)
            self.cgroups.append(path)
        if not self.cgroups:
            raise Unavailable("no cgroup hierarchy of ours found for the container (/proc/self/cgroup, mountinfo)")
        return []

    def boot(self, timeout=60):
        prefix = self._cgroups_for_nspawn()
        cgroups = list(self.cgroups)
        # If this test dies, nspawn gets SIGTERM: it shuts the container down.
        end_with_test = ends_with_this_process(signal.SIGTERM)

        def in_child():
            for path in cgroups:
                with open(os.path.join(path, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            end_with_test()

        command = prefix + _in_private_run([
            "systemd-nspawn", "--quiet", "--directory", self.root, "--volatile=overlay", "--boot",
            "--machine", self.name, "--register=no", "--keep-unit", "--private-network",
            "--console=read-only", "--resolv-conf=off", "--timezone=off", "--link-journal=no",
            # systemd's IP firewall (the unit's IPAddressDeny=) is BPF on cgroups: let
            # the container's systemd use it, as it would on a host.
            "--capability=CAP_BPF", "--system-call-filter=bpf",
            # And perf events, which the daemon uses to watch parked threads (its unit
            # grants CAP_PERFMON): nspawn's own filter would refuse them, a host does not.
            "--capability=CAP_PERFMON", "--system-call-filter=perf_event_open"])
        env = {"PATH": os.environ.get("PATH", CONTAINER_PATH),
               # cgroup v2 inside whatever the host has: the unit's BPF firewall needs it.
               "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}
        with open(self.log_path, "w") as log:
            self.nspawn = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                           preexec_fn=in_child)
        deadline = time.monotonic() + timeout
        while self.leader is None:
            if self.nspawn.poll() is not None or time.monotonic() > deadline:
                raise Unavailable("systemd-nspawn cannot boot a container here (exit %s):\n%s" %
                                  (self.nspawn.poll(), self.log()[-1500:]))
            self.leader = self._find_leader()
            time.sleep(0.05)
        # "offline" until PID 1 is systemd and answers; then --wait waits for the boot.
        while True:
            state = self.run(["systemctl", "is-system-running", "--wait"], timeout=max(1, deadline - time.monotonic()))
            if state.stdout.strip() in ("running", "degraded"):
                return
            if self.nspawn.poll() is not None or time.monotonic() > deadline:
                raise Unavailable("the container's systemd did not come up: %r\n%s" % (state.stdout, self.log()[-1500:]))
            time.sleep(0.05)

    def _find_leader(self):
        """The container's PID 1: the child of nspawn in another PID namespace."""
        own = os.readlink("/proc/self/ns/pid")
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/stat" % pid) as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                if parent == self.nspawn.pid and os.readlink("/proc/%s/ns/pid" % pid) != own:
                    return int(pid)
            except (OSError, ValueError, IndexError):
                pass
        return None

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def run(self, argv, user=None, input=None, timeout=60):
        """argv inside the container (all its namespaces), as root or as user (with
        that user's groups), with a clean environment. CompletedProcess, text."""
        command = ["nsenter", "--target", str(self.leader), "--all", "--", "env", "-i", "PATH=" + CONTAINER_PATH]
        if user is not None:
            command += ["setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"]
        return subprocess.run(command + list(argv), input=input, capture_output=True, text=True, timeout=timeout)

    def host_path(self, path):
        """A path inside the running container, as the host reaches it."""
        return "/proc/%d/root%s" % (self.leader, path)

    def stop(self, timeout=30):
        """Shuts the container down (SIGTERM to nspawn halts its systemd), kills it if
        that takes too long, and removes the cgroups made for it."""
        if self.nspawn is not None and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(timeout)
            except subprocess.TimeoutExpired:
                if self.leader:
                    try:
                        os.kill(self.leader, signal.SIGKILL)  # ends its whole PID namespace
                    except ProcessLookupError:
                        pass
                self.nspawn.kill()
                self.nspawn.wait()
        # The container's last processes may take a moment to die after its PID 1.
        deadline = time.monotonic() + 10
        while True:
            self.cgroups = [path for path in self.cgroups if not _remove_cgroup_tree(path)]
            if not self.cgroups or time.monotonic() > deadline:
                return not self.cgroups
            time.sleep(0.1)
