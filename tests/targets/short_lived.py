# Runs work() for the seconds given, then exits 0. Python 2.7 and 3.x.
import sys
import time


def work(seconds):
    end = time.time() + seconds
    while time.time() < end:
        pass


sys.stdout.write("READY\n")
sys.stdout.flush()
work(float(sys.argv[1]))
