# -*- coding: utf-8 -*-
# Dump test target (Python 2.7, whose identifiers are ASCII): a non-ASCII file and
# thread name.
import sys
import threading


def compute():
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True: pass  # mark: unicode-loop


t = threading.Thread(target=threading.Event().wait, name="作業者-1")
t.daemon = True
t.start()
compute()  # mark: unicode-call
