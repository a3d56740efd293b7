# Code object reuse target: makes a new function generated_<i> every 50 ms, says
# "NOW <i>" before running it, and frees the old one, so that the new code
# object is often allocated where the old one was. A sampler that trusted its
# cache by address would go on naming the old function. Python 2.7 and 3.x.
import sys
import time

SOURCE = """
def generated_%d():
    end = time.time() + 0.05
    while time.time() < end:
        pass
"""

sys.stdout.write("READY\n")
sys.stdout.flush()
i = 0
while True:
    i += 1
    namespace = {"time": time}
    exec(SOURCE % i, namespace)
    sys.stdout.write("NOW %d\n" % i)
    sys.stdout.flush()
    namespace["generated_%d" % i]()
    del namespace
