# A hostile target for the profile's limits: it runs, one after the other without
# end, fresh call chains DEPTH deep whose functions all have fresh names LENGTH
# characters long, each chain busy for a few milliseconds at its bottom, so that
# nearly every sample sees a stack, and names, never seen before.
# Usage: fresh_names.py [DEPTH] [LENGTH]   (defaults 500 and 4000). Python 3.11+.
import sys
import time

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 500
LENGTH = int(sys.argv[2]) if len(sys.argv) > 2 else 4000


def spin():
    end = time.perf_counter() + 0.008
    while time.perf_counter() < end:
        pass


def link(chain, i):
    if i + 1 < len(chain):
        return chain[i + 1](chain, i + 1)
    return spin()


def fresh_chain(serial):
    """DEPTH functions like link, each with a code object of its own and a fresh name."""
    chain = []
    for i in range(DEPTH):
        head = "fresh_%d_%d_" % (serial, i)
        name = head + "n" * max(0, LENGTH - len(head))
        code = link.__code__.replace(co_name=name, co_qualname=name)
        chain.append(type(link)(code, globals()))
    return chain


sys.setrecursionlimit(max(1000, DEPTH * 2 + 100))
print("READY", flush=True)
serial = 0
while True:
    chain = fresh_chain(serial)
    chain[0](chain, 0)
    serial += 1
