# Parked threads that wake: a pool of threads that each wait a few milliseconds on
# an Event, from one of two call sites at the same depth (so their frames sit at the
# same addresses whichever site they wait from), then wait again from either; some
# threads stay parked for good and some (two by default) run without pause. What a sampler that
# reuses parked threads' stacks must not get wrong: a thread that woke and moved to
# the other site must never be reported at the old one.
# Usage: waking_threads.py [WAKING] [PARKED] [SPINNING]. Python 2.7 and 3.x.
import random
import sys
import threading

never = threading.Event()


def wait_here(timeout):
    never.wait(timeout)


def wait_there(timeout):
    never.wait(timeout)


def waking():
    rng = random.Random()
    while True:
        if rng.random() < 0.5:
            wait_here(rng.random() * 0.02)
        else:
            wait_there(rng.random() * 0.02)


def spinning():
    n = 0
    while True:
        n += 1


waking_count = int(sys.argv[1]) if len(sys.argv) > 1 else 30
parked_count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
for i in range(waking_count):
    t = threading.Thread(target=waking, name="waking-%d" % i)
    t.daemon = True
    t.start()
for i in range(parked_count):
    t = threading.Thread(target=never.wait, name="parked-%d" % i)
    t.daemon = True
    t.start()
spinning_count = int(sys.argv[3]) if len(sys.argv) > 3 else 2
for i in range(spinning_count):
    t = threading.Thread(target=spinning, name="spinning-%d" % i)
    t.daemon = True
    t.start()
sys.stdout.write("READY\n")
sys.stdout.flush()
try:
    never.wait()
except KeyboardInterrupt:
    pass
