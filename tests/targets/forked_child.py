# A fork without exec: the child is Python from its first instant (the parent's
# interpreter, copied) and runs forked_child_work; the parent sleeps in
# parent_waits. It also starts a child that is no Python at all (sleep), and, when
# asked, a second forked child that makes itself undumpable (undumpable_child_work):
# one its own user may not profile. Prints READY and the children's PIDs.
# Usage: forked_child.py [--undumpable]
import ctypes
import os
import subprocess
import sys
import time


def forked_child_work():
    total = 0
    while True:
        for i in range(1000):
            total += i


def undumpable_child_work():
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: out of its own user's reach
    total = 0
    while True:
        for i in range(1000):
            total -= i


def fork_into(work):
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    return pid


def parent_waits():
    while True:
        time.sleep(0.5)


if __name__ == "__main__":
    children = [fork_into(forked_child_work)]
    sleeper = subprocess.Popen(["sleep", "600"])
    if "--undumpable" in sys.argv:
        children.append(fork_into(undumpable_child_work))
    print("READY %s %d" % (" ".join(str(c) for c in children), sleeper.pid), flush=True)
    parent_waits()
