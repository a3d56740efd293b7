# A thread-per-request server's churn without the server: threads that start, run a
# few calls deep (through a C-level call and back into Python, as a request does)
# and end, eight at a time, all the time. Usage: brief_threads.py. Python 2.7 and 3.x.
import sys
import threading


def handle(n):
    if n > 0:
        return handle(n - 1)
    # Into C and back: sorted() calls the key function for each item.
    return sorted(range(3000), key=lambda x: -x)[0]


def request(i):
    handle(10 + i % 20)


def serve():
    i = 0
    while True:
        batch = [threading.Thread(target=request, args=(i + k,)) for k in range(8)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
        i += 8


sys.stdout.write("READY\n")
sys.stdout.flush()
serve()
