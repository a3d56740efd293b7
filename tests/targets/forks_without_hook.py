# Forks through the C library's fork() (by ctypes), not os.fork(): the child skips
# CPython's after-fork hook, as uWSGI's workers do, so its thread state keeps the
# parent's native thread id. The child spins in spin_in_child() (and dies with its
# parent); the parent says the child's PID, then sleeps. Python 2.7 and 3.x.
import ctypes
import os
import signal
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
parent = os.getpid()


def spin_in_child():
    while True: pass  # mark: child-spin


child = libc.fork()
if child == 0:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before prctl
        os._exit(0)
    spin_in_child()
sys.stdout.write("CHILD %d\nREADY\n" % child)
sys.stdout.flush()
while True:
    time.sleep(1)
