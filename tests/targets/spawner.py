# A launched program with a child of its own in its process group: both must be
# gone when pyprofd record ends. Prints "PIDS <own pid> <child pid>", then READY.
import os
import subprocess
import sys

child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"])
sys.stdout.write("PIDS %d %d\n" % (os.getpid(), child.pid))
sys.stdout.write("READY\n")
sys.stdout.flush()
while True:
    pass
