# Parked threads interleaved in the interpreter's thread list with threads that end
# one by one: when one ends, the state before it in the list (newest first) is a
# parked thread's, whose `next` link changes although that thread never runs. New
# threads that park for good start in between (linked in at the head).
#
# Usage: interleaved_exits.py PAIRS SECONDS_BEFORE_ENDINGS. Prints READY, then for
# each thread that ended "ENDED <its OS thread id>" once it was joined, for each new
# one "STARTED <its OS thread id>" once it runs, then DONE. Python 2.7 and 3.x.
import sys
import threading
import time

try:
    native_id = threading.get_native_id  # 3.8+
except AttributeError:
    import ctypes

    _gettid = ctypes.CDLL(None).syscall

    def native_id():
        return _gettid(186)  # SYS_gettid on x86_64


forever = threading.Event()
pairs = int(sys.argv[1])
delay = float(sys.argv[2])
leaving = []


def leave_when_told(go, tid):
    tid.append(native_id())
    go.wait()


def park_for_good(tid):
    tid.append(native_id())
    forever.wait()


for i in range(pairs):
    threading.Thread(target=forever.wait, name="parked-%d" % i).start()
    go, tid = threading.Event(), []
    thread = threading.Thread(target=leave_when_told, args=(go, tid), name="leaving-%d" % i)
    thread.start()
    leaving.append((thread, go, tid))
while any(not tid for _, _, tid in leaving):
    time.sleep(0.01)
sys.stdout.write("READY\n")
sys.stdout.flush()
time.sleep(delay)  # long enough for the sampler to watch the parked threads

for i, (thread, go, tid) in enumerate(leaving):
    go.set()
    thread.join()
    sys.stdout.write("ENDED %d\n" % tid[0])
    sys.stdout.flush()
    if i % 3 == 0:
        tid = []
        threading.Thread(target=park_for_good, args=(tid,), name="late-%d" % i).start()
        while not tid:
            time.sleep(0.001)
        sys.stdout.write("STARTED %d\n" % tid[0])
        sys.stdout.flush()
    time.sleep(0.05)
sys.stdout.write("DONE\n")
sys.stdout.flush()
try:
    forever.wait()
except KeyboardInterrupt:
    pass
