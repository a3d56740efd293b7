# A service's shape: N threads parked on an Event (a thread pool waiting for work)
# and the main thread waiting too. Usage: parked_threads.py N. Python 2.7 and 3.x.
import sys
import threading

stop = threading.Event()
for i in range(int(sys.argv[1])):
    threading.Thread(target=stop.wait, name="parked-%d" % i).start()
sys.stdout.write("READY\n")
sys.stdout.flush()
try:
    stop.wait()
except KeyboardInterrupt:
    pass
