#!/usr/bin/env python3
"""Makes the label sets of issue #15's frame-identity tests: real folded stacks from
every interpreter the tests know, with the ground truth to normalize them against.

For each interpreter (tests/support/list_interpreters --json: pyenv's, Debian's
python3.11, and Debian sid's 3.14 and 3.15 run in their root with chroot), it copies
tests/targets/label_program into a temporary working directory as app/, starts
`python app/label_program.py` there (a relative path: 2.7 keeps it so in its code
objects, 3.9+ makes it absolute), and records it with the built pyprofd twice:

    pyprofd record --pid PID --duration 2 --rate R --idle -o NAME.folded
    pyprofd record --pid PID --duration 2 --rate R --idle --function -o NAME-function.folded

(R: 50 Hz, halved until the file is under 40 KB.)

(--idle: the waiting threads' frames, queue.get, Condition.wait, serve_forever in
select, are labels to normalize too.) NAME.json is what the program itself printed:
{"python_version", "working_directory", "standard_library" (dirname of os.__file__),
"standard_library_realpath", "site_packages"}, plus "interpreter" (the label
list_interpreters gives). Files go to tests/render/data/label_sets/.

Run by hand (as root: pyprofd reads other processes; chroot for the sid ones), not by
ctest; commit what it writes:

    tests/render/make_label_sets.py [--pyprofd build/pyprofd]
        [--list-interpreters build/tests/list_interpreters] [--only LABEL-WORD]

An interpreter pyprofd cannot read is skipped and named at the end.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAM = os.path.join(SOURCE, "tests/targets/label_program")
OUTPUT = os.path.join(SOURCE, "tests/render/data/label_sets")
DURATION_S = 2
# The rate is halved until a file fits in SIZE_LIMIT (2.7's long stacks of full paths
# are the largest), but not below MIN_RATE_HZ.
RATE_HZ = 50
MIN_RATE_HZ = 6
SIZE_LIMIT = 40 * 1024


def file_name(label):
    """'pyenv 3.11.7' -> 'pyenv-3.11.7', 'debian-sid 3.14' -> 'debian-sid-3.14'."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-")


def command_in(py, cwd):
    """The command that runs the program from cwd: list_interpreters gives the chroot's
    wrapper (tests/support/run_in_root.sh ROOT USERSPEC CWD ...) with / as CWD."""
    command = list(py["command"])
    for i, word in enumerate(command):
        if word.endswith("run_in_root.sh"):
            command[i + 3] = cwd
    return command


# Files every label set must have frames of (2.7's names or 3.x's); a record that
# missed one (a short run on a crowded machine) is made again.
EXPECTED_FILES = [r"[Ss]ocket[Ss]erver\.py", r"(BaseHTTPServer|http/server)\.py", r"(httplib|http/client)\.py",
                  r"(urllib2|urllib/request)\.py", r"/[Qq]ueue\.py", r"/json/", r"/threading\.py",
                  r"helpers/records\.py", r"label_program\.py"]
TRIES = 4


def missing_files(path):
    with open(path) as f:
        text = f.read()
    return [pattern for pattern in EXPECTED_FILES if not re.search(pattern, text)]


def record(pyprofd, pid, output, rate, extra):
    done = subprocess.run([pyprofd, "record", "--pid", str(pid), "--duration", str(DURATION_S), "--rate", str(rate),
                           "--idle"] + extra + ["-o", output], capture_output=True, text=True, timeout=60)
    return done.returncode == 0 and os.path.getsize(output) > 0, done.stderr.strip()


def label_set(pyprofd, py):
    """(files written, None) or (None, why skipped)."""
    work = tempfile.mkdtemp(prefix="pyprofd-label-sets-", dir="/tmp")
    os.chmod(work, 0o755)
    target = None
    try:
        shutil.copytree(PROGRAM, os.path.join(work, "app"), ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
        target = subprocess.Popen(command_in(py, work), cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        truth_line = target.stdout.readline()
        ready = target.stdout.readline()
        if ready.strip() != b"READY":
            return None, "the program did not start: %r %r" % (truth_line, target.stderr.read(2000))
        truth = json.loads(truth_line)
        truth["interpreter"] = py["label"]
        time.sleep(0.5)
        name = file_name(py["label"])
        written = []
        for suffix, extra in (("", []), ("-function", ["--function"])):
            folded = os.path.join(work, name + suffix + ".folded")
            rate, tries = RATE_HZ, 0
            while True:
                ok, why = record(pyprofd, target.pid, folded, rate, extra)
                if not ok:
                    return None, "pyprofd record%s failed: %s" % (" " + " ".join(extra) if extra else "", why)
                tries += 1
                if os.path.getsize(folded) > SIZE_LIMIT and rate > MIN_RATE_HZ:
                    rate = max(MIN_RATE_HZ, rate // 2)  # fewer samples, fewer distinct stacks
                elif missing_files(folded) and tries < TRIES:
                    pass  # again at this rate
                else:
                    break
            missing = missing_files(folded)
            print("  %s: %d bytes at %d Hz%s" % (name + suffix + ".folded", os.path.getsize(folded), rate,
                                                 "; no frames of " + ", ".join(missing) if missing else ""))
            written.append(folded)
        truth_path = os.path.join(work, name + ".json")
        with open(truth_path, "w") as f:
            json.dump(truth, f, indent=2, sort_keys=True)
            f.write("\n")
        written.append(truth_path)
        os.makedirs(OUTPUT, exist_ok=True)
        for path in written:
            shutil.copyfile(path, os.path.join(OUTPUT, os.path.basename(path)))
        return [os.path.basename(p) for p in written], None
    finally:
        if target is not None:
            target.send_signal(signal.SIGKILL)
            target.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pyprofd", default=os.path.join(SOURCE, "build/pyprofd"))
    parser.add_argument("--list-interpreters", default=os.path.join(SOURCE, "build/tests/list_interpreters"))
    parser.add_argument("--only", help="only interpreters whose label holds this")
    args = parser.parse_args()
    listed = subprocess.run([args.list_interpreters, "--json", "app/label_program.py"], capture_output=True,
                            text=True, timeout=60)
    sys.stdout.write(listed.stderr)
    if listed.returncode != 0:
        return 1
    skipped = []
    for py in json.loads(listed.stdout):
        if args.only and args.only not in py["label"]:
            continue
        files, why = label_set(args.pyprofd, py)
        if files:
            print("%s: %s" % (py["label"], ", ".join(files)))
        else:
            print("%s: SKIPPED: %s" % (py["label"], why))
            skipped.append(py["label"])
    print("skipped: %s" % (", ".join(skipped) if skipped else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
