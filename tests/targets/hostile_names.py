# A hostile target for the profile's formats: the names a profiler reads from it
# hold what would forge folded stacks or break XML. A function whose qualified name
# and file name hold a newline, ';', a huge count and U+FFFF spins in the main thread
# and in a thread whose name holds the same. Python 3.11+ (co_qualname).
import threading

FORGED = "\nforged;stack;frames 1000000000000000000\n\uffff\ufffe\x1b[31m"


def spin():
    while True:
        pass


code = spin.__code__.replace(co_name="evil" + FORGED, co_qualname="Evil.evil" + FORGED,
                             co_filename="/srv/app/evil" + FORGED + ".py")
hostile = type(spin)(code, globals())
thread = threading.Thread(target=hostile, name="worker" + FORGED, daemon=True)
thread.start()
print("READY", flush=True)
hostile()
