# Dump test target: recurses to the depth given, then spins in leaf() for ever.
# Runs on Python 2.7 and 3.x. The tests find lines by their "mark:" comments.
import sys


def leaf():
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True: pass  # mark: leaf-loop


def descend(n):
    if n == 0:
        leaf()  # mark: descend-leaf
    else:
        descend(n - 1)  # mark: descend-recurse


descend(int(sys.argv[1]))  # mark: module-call
