# Blocking-mode target: many threads parked on an Event, a few busy ones that go
# back and forth between two call chains, so that a stack read while it changes
# shows a frame under the wrong caller. The test knows every stack it may be in.
#   parked_and_busy.py PARKED BUSY [sleep0]
# With "sleep0" the busy threads also call time.sleep(0) on each turn: they let go
# of the GIL in C all the time, so it is often free or just handed on.
# Python 2.7 and 3.x.
import sys
import threading
import time

parked_count = int(sys.argv[1])
busy_count = int(sys.argv[2])
sleep0 = "sleep0" in sys.argv[3:]


def leaf_a(n):
    return n + 1  # mark: leaf_a


def leaf_b(n):
    return n + 2  # mark: leaf_b


def chain_a(n):
    return leaf_a(n)  # mark: chain_a calls leaf_a


def chain_b(n):
    return leaf_b(n)  # mark: chain_b calls leaf_b


def busy():
    n = 0
    while True:  # mark: busy loop
        n = chain_a(n)  # mark: busy calls chain_a
        n = chain_b(n)  # mark: busy calls chain_b
        if sleep0:  # mark: busy checks sleep0
            time.sleep(0)  # mark: busy sleeps


def parked(event):
    event.wait()  # mark: parked waits


never = threading.Event()
for i in range(parked_count):
    t = threading.Thread(target=parked, args=(never,), name="parked-%d" % i)
    t.daemon = True
    t.start()
for i in range(busy_count):
    t = threading.Thread(target=busy, name="busy-%d" % i)
    t.daemon = True
    t.start()
time.sleep(0.3)
sys.stdout.write("READY\n")  # mark: ready
sys.stdout.flush()
while True:  # mark: main loop
    time.sleep(1)  # mark: main sleeps
