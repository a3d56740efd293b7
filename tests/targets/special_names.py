# Dump test target: spins inside a lambda called from a generator expression or a
# list comprehension at module level, as argv[1] says. Runs on Python 2.7 and 3.x.
import sys


def spin(_):
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True: pass  # mark: spin-loop


call = lambda x: spin(x)  # mark: lambda-call

if sys.argv[1] == "genexpr":
    list(call(x) for x in [1])  # mark: genexpr-call
else:
    [call(x) for x in [1]]  # mark: listcomp-call
