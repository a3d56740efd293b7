# Activity target: the main thread spins in spin(); a thread named "sleeper"
# waits in nap() (time.sleep, waking once a second), so it is idle nearly all
# the time. With "two-busy", a second busy thread "worker" spins too.
# Python 2.7 and 3.x.
import sys
import threading
import time


def nap():
    while True:
        time.sleep(1)


def spin():
    n = 0
    while True:
        n += 1


def worker_loop():
    spin()


threading.Thread(target=nap, name="sleeper").start()
if "two-busy" in sys.argv:
    threading.Thread(target=worker_loop, name="worker").start()
time.sleep(0.2)
sys.stdout.write("READY\n")
sys.stdout.flush()
spin()
