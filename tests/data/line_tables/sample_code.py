# Source compiled by make_line_tables.py to produce line-table test data.
# It exercises what the encoders do differently: long jumps, large and negative
# line deltas, loops, exceptions, nested functions, lambdas and comprehensions.
import os


def simple(a, b):
    c = a + b
    return c * 2


def loops(n):
    total = 0
    for i in range(n):
        if i % 2:
            total += i
        else:
            total -= 1
    while total > 0:
        total -= 3
    return total


def exceptions(path):
    try:
        with open(path) as f:
            data = f.read()
    except (IOError, OSError) as e:
        data = str(e)
    finally:
        pass
    return data


def nested():
    square = lambda x: x * x
    values = [square(v) for v in range(10) if v % 3]
    gen = (v + 1 for v in values)
    return sum(gen), {k: k for k in values}


def long_body(x):
    y = x
    y = y + 1; y = y + 2; y = y + 3; y = y + 4; y = y + 5; y = y + 6; y = y + 7; y = y + 8
    y = y + 1; y = y + 2; y = y + 3; y = y + 4; y = y + 5; y = y + 6; y = y + 7; y = y + 8
    y = y + 1; y = y + 2; y = y + 3; y = y + 4; y = y + 5; y = y + 6; y = y + 7; y = y + 8
    y = y + 1; y = y + 2; y = y + 3; y = y + 4; y = y + 5; y = y + 6; y = y + 7; y = y + 8
    y = y + 1; y = y + 2; y = y + 3; y = y + 4; y = y + 5; y = y + 6; y = y + 7; y = y + 8
    y = y + 1; y = y + 2; y = y + 3; y = y + 4; y = y + 5; y = y + 6; y = y + 7; y = y + 8
    y = y * 1 + 1; y = y * 2 + 2; y = y * 3 + 3; y = y * 4 + 4; y = y * 5 + 5; y = y * 6 + 6; y = y * 7 + 7; y = y * 8 + 8; y = y * 9 + 9; y = y * 10 + 10; y = y * 11 + 11; y = y * 12 + 12; y = y * 13 + 13; y = y * 14 + 14; y = y * 15 + 15; y = y * 16 + 16; y = y * 17 + 17; y = y * 18 + 18; y = y * 19 + 19; y = y * 20 + 20; y = y * 21 + 21; y = y * 22 + 22; y = y * 23 + 23; y = y * 24 + 24; y = y * 25 + 25; y = y * 26 + 26; y = y * 27 + 27; y = y * 28 + 28; y = y * 29 + 29; y = y * 30 + 30; y = y * 31 + 31; y = y * 32 + 32; y = y * 33 + 33; y = y * 34 + 34; y = y * 35 + 35; y = y * 36 + 36; y = y * 37 + 37; y = y * 38 + 38; y = y * 39 + 39; y = y * 40 + 40
    if y > 100:
        return os.path.join(
            str(y),
            str(x),
        )
    return y































































































































































def after_a_large_gap():
    return (1 +
            2 +
            3)


class Holder(object):
    def method(self, items):
        out = []
        for item in items:
            for other in items:
                if item is other:
                    continue
                out.append((item, other))
        return out
