# Says where its files are named from, as Python itself knows it: its working
# directory and its standard library's directory (os.py's). What pyprofd must find
# from outside at attach. Runs on Python 2.7 and 3.x.
import os
import sys
import time

sys.stdout.write("cwd=%s\n" % os.getcwd())
sys.stdout.write("stdlib=%s\n" % os.path.dirname(os.__file__))
sys.stdout.write("READY\n")
sys.stdout.flush()
while True:
    time.sleep(1)
