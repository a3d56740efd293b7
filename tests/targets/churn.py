# Race test target: stacks that change all the time. Threads come and go, recursion
# depths change between samples, code objects are created and freed (exec), so a
# sampler reading from outside keeps racing with the interpreter.
import sys
import threading


def recurse(n):
    if n <= 0:
        return 0
    return recurse(n - 1) + 1


def fresh_code(i):
    namespace = {}
    exec("def generated_%d(n):\n    return sum(range(n))\n" % i, namespace)
    return namespace["generated_%d" % i](50)


def churn(depth_base):
    i = 0
    while True:
        i += 1
        recurse(depth_base + i % 40)
        fresh_code(i)


def short_lived():
    recurse(10)


for k in range(2):
    t = threading.Thread(target=churn, args=(k * 7,), name="churn-%d" % k)
    t.daemon = True
    t.start()
sys.stdout.write("READY\n")
sys.stdout.flush()
n = 0
while True:
    n += 1
    t = threading.Thread(target=short_lived, name="short-%d" % n)
    t.start()
    t.join()
    recurse(n % 60)
