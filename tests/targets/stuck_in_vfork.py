# A thread that no ptrace interrupt can stop: it starts a child with glibc's
# posix_spawn, whose vfork-style clone leaves the parent thread waiting until the
# child execs, and the child first opens a FIFO for reading, which blocks until
# someone opens it for writing. Meanwhile the main thread spins. posix_spawn is
# called through ctypes, which lets go of the GIL (os.posix_spawn keeps it).
# Usage: stuck_in_vfork.py FIFO (Python 3, Linux, glibc).
import ctypes
import os
import sys
import threading
import time

fifo = sys.argv[1].encode()


def spawn():
    libc = ctypes.CDLL(None, use_errno=True)
    actions = ctypes.create_string_buffer(512)  # posix_spawn_file_actions_t, opaque and smaller
    libc.posix_spawn_file_actions_init(actions)
    libc.posix_spawn_file_actions_addopen(actions, 0, fifo, os.O_RDONLY, 0)
    argv = (ctypes.c_char_p * 2)(b"true", None)
    envp = (ctypes.c_char_p * 1)(None)
    pid = ctypes.c_int()
    libc.posix_spawn(ctypes.byref(pid), b"/bin/true", actions, None, argv, envp)
    os.waitpid(pid.value, 0)


def spin():
    n = 0
    while True:
        n += 1


threading.Thread(target=spawn, name="spawner", daemon=True).start()
time.sleep(0.3)
sys.stdout.write("READY\n")
sys.stdout.flush()
spin()
