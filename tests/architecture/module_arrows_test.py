#!/usr/bin/env python3
"""The module arrows of DESIGN.md, checked on the code: every `#include "M/..."` of
a project module M in a module's own files must name the module itself or one
that DESIGN.md's layout table says it may depend on. The table is the one source:
change an arrow there, and this test follows.

The build enforces the upward half of it (each module compiles against a view of
the source tree holding only itself and what it may reach, so sampler cannot
even find daemon/); this test is exact, and sees sideways includes too (api
reaching into sampler, which it may reach only through daemon's headers).

--self-check plants an include against the arrows (sampler including a daemon
header) in a copy of the file list, and succeeds only if that is caught: so the
test is shown to be able to fail.

Usage: module_arrows_test.py SOURCE_DIR [--self-check]
"""
import os
import re
import sys

SOURCE = os.path.abspath(sys.argv[1])
SELF_CHECK = "--self-check" in sys.argv[2:]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def design_arrows():
    """module -> the modules it may include, from DESIGN.md's layout table."""
    with open(os.path.join(SOURCE, "DESIGN.md"), encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r"^\| `([a-z_]+)/` \|[^|]*\|([^|]*)\|\s*$", text, re.M)
    modules = {name for name, _ in rows}
    arrows = {}
    for name, depends in rows:
        words = set(re.findall(r"[a-z_]+", depends))
        arrows[name] = {m for m in modules if m in words and m != name and m != "tests"}
    return modules, arrows


def module_files(module):
    top = os.path.join(SOURCE, module)
    for root, _, files in os.walk(top):
        for name in sorted(files):
            if name.endswith((".cpp", ".hpp", ".h", ".cc")):
                yield os.path.join(root, name)


def violations(modules, arrows, extra=()):
    found = []
    checked = 0
    for module in sorted(arrows):
        if module in ("tests", "bench"):
            continue  # they may use everything
        sources = [(path, open(path, encoding="utf-8").read()) for path in module_files(module)]
        sources += [(path, text) for m, path, text in extra if m == module]
        for path, text in sources:
            checked += 1
            for match in INCLUDE.finditer(text):
                target = match.group(1)
                if target in modules and target != module and target not in arrows[module]:
                    line = text.count("\n", 0, match.start()) + 1
                    found.append("%s:%d includes %s/, but DESIGN.md says %s/ may depend only on %s" %
                                 (os.path.relpath(path, SOURCE), line, target, module,
                                  ", ".join(sorted(arrows[module])) or "no other module"))
    return found, checked


def main():
    modules, arrows = design_arrows()
    if not {"sampler", "render", "daemon", "api"} <= modules:
        print("FAIL DESIGN.md's layout table was not found or lost a module: %s" % sorted(modules))
        return 1
    for m in sorted(arrows):
        print("arrows: %s/ -> %s" % (m, ", ".join(sorted(arrows[m])) or "-"))
    if SELF_CHECK:
        planted = ("sampler", os.path.join(SOURCE, "sampler", "planted_by_self_check.cpp"),
                   '#include "sampler/error.hpp"\n#include "daemon/session.hpp"\n')
        found, _ = violations(modules, arrows, [planted])
        caught = any("planted_by_self_check.cpp:2 includes daemon/" in v for v in found)
        print(("ok   " if caught else "FAIL ") + "a planted include of daemon/ in sampler/ is caught: %s" %
              [v for v in found if "planted" in v])
        return 0 if caught else 1
    found, checked = violations(modules, arrows)
    for v in found:
        print("FAIL " + v)
    print("%d files checked, %d includes against the arrows" % (checked, len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
