# The many-threads target of bench/many_threads.py: 156 threads parked on an Event
# (as a thread pool's idle workers are), 4 threads incrementing counters, and the
# main thread, which prints "MONOTONIC_TIME TOTAL_INCREMENTS" every quarter second so
# that the bench can tell the busy threads' throughput over any window.
# Prints READY once every thread runs.
import threading
import time

PARKED, BUSY = 156, 4
parked_forever = threading.Event()
counts = [0] * BUSY


def parked():
    parked_forever.wait()


def busy(i):
    c = counts
    while True:
        c[i] += 1


for _ in range(PARKED):
    threading.Thread(target=parked, daemon=True).start()
for i in range(BUSY):
    threading.Thread(target=busy, args=(i,), daemon=True).start()
print("READY", flush=True)
while True:
    time.sleep(0.25)
    print("%.3f %d" % (time.monotonic(), sum(counts)), flush=True)
