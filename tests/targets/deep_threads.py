# Benchmark target: N threads (the main one among them), each recursing to the
# depth given and then spinning in leaf(). Python 2.7 and 3.x.
import sys
import threading


def leaf():
    while True:
        pass


def descend(n):
    if n == 0:
        leaf()
    else:
        descend(n - 1)


threads, depth = int(sys.argv[1]), int(sys.argv[2])
for i in range(threads - 1):
    t = threading.Thread(target=descend, args=(depth,), name="spinner-%d" % (i + 1))
    t.daemon = True
    t.start()
sys.stdout.write("READY\n")
sys.stdout.flush()
descend(depth)
