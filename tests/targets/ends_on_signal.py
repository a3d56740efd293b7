# Parked threads interleaved in the interpreter's thread list with threads that
# wait to end, as in interleaved_exits.py, but each ending comes when the test asks
# for it: on each SIGUSR1 the main thread ends the newest waiting thread (whose
# state is next to a parked one's in the list), then starts a thread that parks for
# good (its state linked in at the head, often where the ended one's was freed).
#
# Usage: ends_on_signal.py PAIRS. Prints READY, then on each SIGUSR1
# "ENDED <OS thread id>" once that thread was joined and "STARTED <OS thread id>
# <its name>" once the new one runs. Python 2.7 and 3.x.
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
waiting = []
asked = []


def wait_to_end(go, tid):
    tid.append(native_id())
    go.wait()


def park_for_good(tid):
    tid.append(native_id())
    forever.wait()


for i in range(pairs):
    threading.Thread(target=forever.wait, name="parked-%d" % i).start()
    go, tid = threading.Event(), []
    thread = threading.Thread(target=wait_to_end, args=(go, tid), name="leaving-%d" % i)
    thread.start()
    waiting.append((thread, go, tid))
while any(not tid for _, _, tid in waiting):
    time.sleep(0.01)


def on_signal(signum, frame):
    asked.append(signum)


signal.signal(signal.SIGUSR1, on_signal)
sys.stdout.write("READY\n")
sys.stdout.flush()
ended = 0
while True:
    time.sleep(0.005)  # (not signal.pause(): a signal just before it would be waited for)
    while asked and waiting:
        asked.pop()
        thread, go, tid = waiting.pop()  # the newest: nearest the head of the list
        go.set()
        thread.join()
        sys.stdout.write("ENDED %d\n" % tid[0])
        sys.stdout.flush()
        ended += 1
        new_tid = []
        name = "late-%d" % ended
        threading.Thread(target=park_for_good, args=(new_tid,), name=name).start()
        while not new_tid:
            time.sleep(0.0005)
        sys.stdout.write("STARTED %d %s\n" % (new_tid[0], name))
        sys.stdout.flush()
