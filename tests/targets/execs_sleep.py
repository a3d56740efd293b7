# Runs Python for a moment, then replaces itself with another program (exec):
# the same process, no Python left in it. Runs on Python 2.7 and 3.x.
import os
import sys
import time

sys.stdout.write("READY\n")
sys.stdout.flush()
end = time.time() + 0.5
while time.time() < end:
    pass
os.execv("/bin/sleep", ["sleep", "30"])
