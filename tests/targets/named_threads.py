# Dump test target: starts a thread for each name given, all waiting for ever, then
# the main thread sleeps. Runs on Python 2.7 and 3.x.
import sys
import threading
import time

stop = threading.Event()
in_place = threading.Semaphore(0)


def wait_for_stop():
    in_place.release()
    stop.wait()  # mark: worker-wait


for name in sys.argv[1:]:
    t = threading.Thread(target=wait_for_stop, name=name)
    t.daemon = True
    t.start()
for _ in sys.argv[1:]:
    in_place.acquire()
sys.stdout.write("READY\n")
sys.stdout.flush()
while True:
    time.sleep(1)  # mark: main-sleep
