# -*- coding: utf-8 -*-
# Dump test target (Python 3): a non-ASCII function, file and thread name.
import sys
import threading


def 計算する():
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True: pass  # mark: unicode-loop


t = threading.Thread(target=threading.Event().wait, name="作業者-1")
t.daemon = True
t.start()
計算する()  # mark: unicode-call
