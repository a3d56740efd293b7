# A multiprocessing.Pool whose workers do the work (pool_work), while the parent
# only waits for their results: a worker tree whose time is all in the children.
# Prints READY and the workers' PIDs once every worker has run.
# Usage: pool_workers.py [WORKERS]
import multiprocessing
import os
import sys
import time


def pool_work(n):
    total = 0
    deadline = time.time() + 0.05
    while time.time() < deadline:
        for i in range(1000):
            total += i * n
    return os.getpid()


if __name__ == "__main__":
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    multiprocessing.set_start_method("fork")  # Python from the start: the parent's interpreter, copied
    with multiprocessing.Pool(workers) as pool:
        pids = set()
        while len(pids) < workers:
            pids.update(pool.map(pool_work, range(workers * 4)))
        print("READY " + " ".join(str(p) for p in sorted(pids)), flush=True)
        while True:
            pool.map(pool_work, range(workers * 4))
