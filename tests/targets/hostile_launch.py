# A program a hostile caller has pyprofd launch for a session (it runs as that
# caller, nobody in the tests). It tries to reach beyond its session, writes what it
# found to REPORT_DIR/MODE.json, prints READY, then runs on until it is ended.
#
#   hostile_launch.py tty REPORT_DIR MARKER
#       opens /dev/tty and pushes a command into it with TIOCSTI (as the findings did
#       into root's shell); reports its session, stdin, the terminals of its stdin,
#       stdout and stderr, its environment and working directory, and prints a line
#       to stdout and one to stderr.
#   hostile_launch.py forks REPORT_DIR MARKER
#       forks 200 children that each call setsid and exit (never reaped by it), and
#       50 that each start a setsid grandchild which exits 0.3 s later (orphans).
#   hostile_launch.py escape REPORT_DIR MARKER
#       double-forks a grandchild in a session of its own that runs on with MARKER
#       in its command line.
import fcntl
import json
import os
import sys
import termios
import time

mode, report_dir, marker = sys.argv[1], sys.argv[2], sys.argv[3]
report = {"pid": os.getpid()}


def try_tiocsti():
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError as e:
        return {"opened": False, "error": e.strerror}
    pushed = 0
    error = None
    try:
        for c in "echo INJECTED-BY-%s-$(id -un)\n" % marker:
            fcntl.ioctl(tty, termios.TIOCSTI, c.encode())
            pushed += 1
    except OSError as e:
        error = e.strerror
    os.close(tty)
    return {"opened": True, "pushed": pushed, "error": error}


if mode == "tty":
    null = os.stat("/dev/null")
    stdin = os.fstat(0)
    report.update(tiocsti=try_tiocsti(), own_session=os.getsid(0) == os.getpid(),
                  stdin_is_null=(stdin.st_rdev == null.st_rdev and stdin.st_ino == null.st_ino),
                  ttys=[os.isatty(fd) for fd in (0, 1, 2)], environ=dict(os.environ), cwd=os.getcwd())
    print("HELLO-STDOUT-%s" % marker, flush=True)
    print("HELLO-STDERR-%s" % marker, file=sys.stderr, flush=True)
elif mode == "forks":
    setsid_children = []
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            os._exit(0)
        setsid_children.append(pid)
    orphans = []
    read_end, write_end = os.pipe()
    for _ in range(50):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            grandchild = os.fork()
            if grandchild == 0:
                time.sleep(0.3)
                os._exit(0)
            os.write(write_end, b"%d\n" % grandchild)
            os._exit(0)
        os.waitpid(pid, 0)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        orphans = [int(line) for line in f.read().split()]
    report.update(setsid_children=setsid_children, orphans=orphans)
elif mode == "escape":
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time\nwhile True: time.sleep(1)", marker])
        os._exit(0)
    os.waitpid(child, 0)
    os.close(write_end)
    os.close(read_end)
    for _ in range(100):  # until the grandchild runs its program
        found = [p for p in os.listdir("/proc") if p.isdigit() and p != str(os.getpid())]
        grandchildren = []
        for p in found:
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if marker.encode() in f.read().split(b"\0")[1:]:
                        grandchildren.append(int(p))
            except OSError:
                pass
        if grandchildren:
            report["grandchild"] = grandchildren[0]
            report["grandchild_sid"] = os.getsid(grandchildren[0])
            break
        time.sleep(0.05)

with open(os.path.join(report_dir, mode + ".json.tmp"), "w") as f:
    json.dump(report, f)
os.rename(os.path.join(report_dir, mode + ".json.tmp"), os.path.join(report_dir, mode + ".json"))
print("READY", flush=True)
while True:
    time.sleep(0.01)
