# Counts the SIGUSR1 it receives, saying so for each ("GOT n"); SIGUSR2 makes it
# print the count ("COUNT n"). For blocking mode: pausing threads must not swallow
# signals. The sender waits for each GOT before the next signal: two of the same
# standard signal pending at once are one, however far apart they were sent, when
# a loaded host does not run the target in between.
import signal
import sys

count = [0]


def on_usr1(signum, frame):
    count[0] += 1
    sys.stdout.write("GOT %d\n" % count[0])
    sys.stdout.flush()


def on_usr2(signum, frame):
    sys.stdout.write("COUNT %d\n" % count[0])
    sys.stdout.flush()


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, on_usr2)
sys.stdout.write("READY\n")
sys.stdout.flush()
n = 0
while True:
    n += 1
