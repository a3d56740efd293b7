# A Python program that maps a file of its choosing (named like an interpreter's
# shared library) into its memory, as any user's program can, and then works.
# A profiler looks at the mapped libpython files first: the file is its input.
# Usage: maps_a_library.py FILE   (prints READY PID once mapped)
import mmap
import os
import sys

with open(sys.argv[1], "rb") as f:
    mapped = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)


def busy_with_a_mapped_library():
    total = 0
    while True:
        for i in range(10000):
            total += i * i


print("READY", os.getpid(), flush=True)
busy_with_a_mapped_library()
