# Parked threads interleaved in the interpreter's thread list with threads that end
# one by one: when one ends, the state before it in the list (newest first) is a
# parked thread's, whose `next` link changes although that thread never runs. New
# threads that park for good start in between (linked in at the head).
#
# Usage: interleaved_exits.py PAIRS SECONDS_BEFORE_ENDINGS [on-signal]. Prints READY,
# then for each thread that ended "ENDED <its OS thread id>" once it was joined, for
# each new one "STARTED <its OS thread id> <its name>" once it runs, then DONE.
# on-signal: each SIGUSR1 ends the newest waiting thread (whose state is next to a
# parked one's) and starts a new one, often given the ended state's place; for
# tests that end a thread at a chosen moment. Python 2.7 and 3.x.
import signal
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


def end(thread, go, tid, then_start=None):
    go.set()
    thread.join()
    sys.stdout.write("ENDED %d\n" % tid[0])
    sys.stdout.flush()
    if then_start:
        new_tid = []
        threading.Thread(target=park_for_good, args=(new_tid,), name=then_start).start()
        while not new_tid:
            time.sleep(0.0005)
        sys.stdout.write("STARTED %d %s\n" % (new_tid[0], then_start))
        sys.stdout.flush()


if len(sys.argv) > 3 and sys.argv[3] == "on-signal":
    asked = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: asked.append(signum))
    ended = 0
    while True:
        time.sleep(0.005)  # (not signal.pause(): a signal just before it would be waited for)
        while asked and leaving:
            asked.pop()
            ended += 1
            end(*leaving.pop(), then_start="late-%d" % ended)

for i, (thread, go, tid) in enumerate(leaving):
    end(thread, go, tid, then_start="late-%d" % i if i % 3 == 0 else None)
    time.sleep(0.05)
sys.stdout.write("DONE\n")
sys.stdout.flush()
try:
    forever.wait()
except KeyboardInterrupt:
    pass
