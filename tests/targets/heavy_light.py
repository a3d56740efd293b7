# Accuracy target: burns 75% of its CPU time in heavy() and 25% in light(), as
# measured by its own process CPU clock, in short slices of random length so no
# sampling rate can beat in step with it. Runs on Python 2.7 and 3.x.
import random
import sys
import time

cpu_clock = getattr(time, "process_time", None) or time.clock


def burn(seconds):
    end = cpu_clock() + seconds
    while cpu_clock() < end:
        pass


def heavy(seconds):
    burn(seconds)


def light(seconds):
    burn(seconds)


def main():
    spent = {"heavy": 0.0, "light": 0.0}
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True:
        piece = random.uniform(0.0002, 0.0015)
        before = cpu_clock()
        # Whichever is behind its share goes next: the totals stay at 3:1.
        if spent["heavy"] <= 3 * spent["light"]:
            heavy(piece)
            spent["heavy"] += cpu_clock() - before
        else:
            light(piece)
            spent["light"] += cpu_clock() - before


main()
