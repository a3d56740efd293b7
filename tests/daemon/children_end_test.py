"""The Python tests' and benches' helpers that keep a killed script from leaving
its children behind (daemon_support): ends_with_this_process() gives a child the
kernel's death signal of its starter, and finish_on_termination() makes SIGTERM
and SIGHUP run the script's finally blocks, where it stops its daemons.

Each case runs a small script that uses the helper, kills it, and looks at what
is left.

Usage: children_end_test.py
"""
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from daemon_support import check, report  # noqa: E402

STARTER = r"""
import subprocess, sys, time
sys.path.insert(0, %r)
from daemon_support import ends_with_this_process
child = subprocess.Popen(["sleep", "600"], preexec_fn=ends_with_this_process())
print(child.pid, flush=True)
time.sleep(600)
"""

FINISHER = r"""
import sys, time
sys.path.insert(0, %r)
from daemon_support import finish_on_termination
finish_on_termination()
try:
    print("ready", flush=True)
    time.sleep(600)
finally:
    print("finally ran", flush=True)
"""


def ended_within(pidfd, seconds):
    readable, _, _ = select.select([pidfd], [], [], seconds)
    return bool(readable)


def child_ends_with_killed_starter():
    starter = subprocess.Popen([sys.executable, "-B", "-c", STARTER % HERE], stdout=subprocess.PIPE, text=True)
    child = int(starter.stdout.readline())
    pidfd = os.pidfd_open(child)  # names that process whatever its PID does later
    try:
        check(not ended_within(pidfd, 0.2), "the child (sleep 600) runs while its starter does")
        starter.kill()
        starter.wait()
        ended = ended_within(pidfd, 10)
        check(ended, "the child ends when its starter is killed with SIGKILL")
        if not ended:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)


def termination_runs_finally_blocks():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        script = subprocess.Popen([sys.executable, "-B", "-c", FINISHER % HERE], stdout=subprocess.PIPE, text=True)
        ready = script.stdout.readline().strip() == "ready"
        script.send_signal(sig)
        rest, _ = script.communicate(timeout=30)
        check(ready and "finally ran" in rest,
              "%s ends the script through its finally blocks (printed %r)" % (sig.name, rest.strip()))
        check(script.returncode == 128 + sig, "and it exits with %d (%d)" % (128 + sig, script.returncode))


def main():
    child_ends_with_killed_starter()
    termination_runs_finally_blocks()
    return report()


if __name__ == "__main__":
    sys.exit(main())
