# Writes line-table test data for the interpreter running it: for every code object
# in sample_code.py, the raw table bytes and the line of each instruction offset, as
# the interpreter itself computes it (co_lines() from 3.10, dis.findlinestarts before).
# Run with each interpreter:  pythonX.Y make_line_tables.py > pyX.Y.json
import dis
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))


def code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            for inner in code_objects(const):
                yield inner


def table_of(code):
    if sys.version_info >= (3, 10):
        return code.co_linetable
    return code.co_lnotab


def expected_lines(code):
    """(byte offset, line) for each instruction start; line -1 where there is none."""
    if sys.version_info >= (3, 10):
        out = []
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                out.append([offset, -1 if line is None else line])
        return out
    starts = list(dis.findlinestarts(code))
    out = []
    step = 1 if sys.version_info < (3, 6) else 2
    offset = 0
    code_len = len(code.co_code)
    while offset < code_len:
        line = code.co_firstlineno
        for start, start_line in starts:
            if start <= offset:
                line = start_line
        out.append([offset, line])
        if sys.version_info < (3, 6):
            op = ord(code.co_code[offset])
            offset += 3 if op >= dis.HAVE_ARGUMENT else 1
        else:
            offset += step
    return out


def main():
    path = os.path.join(HERE, "sample_code.py")
    with open(path) as f:
        source = f.read()
    top = compile(source, "sample_code.py", "exec")
    entries = []
    for code in code_objects(top):
        table = table_of(code)
        if not isinstance(table, bytes):
            table = bytes(table)
        entries.append({
            "name": code.co_name,
            "first_line": code.co_firstlineno,
            "table": "".join("%02x" % (b if isinstance(b, int) else ord(b)) for b in table),
            "expect": expected_lines(code),
        })
    json.dump({"version": "%d.%d" % sys.version_info[:2], "codes": entries}, sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")


main()
