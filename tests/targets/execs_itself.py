# Runs Python for a moment, then replaces itself with a new run of the same
# interpreter (exec of the same executable, as a server re-executing itself does):
# the same process and /proc/PID/exe, a new program image. Runs on Python 2.7 and 3.x.
import os
import sys
import time

sys.stdout.write("READY\n")
sys.stdout.flush()
end = time.time() + 0.5
while time.time() < end:
    pass
os.execv(sys.executable, [sys.executable, "-c", "import time\nwhile True: time.sleep(0.1)\n"])
