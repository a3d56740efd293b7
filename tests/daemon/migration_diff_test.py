#!/usr/bin/env python3
"""Issue #15 as its seed's author would check a Python 2 -> 3 migration: the same
WSGI service (tests/targets/migration_service.py) on pyenv's 2.7 and 3.11 under the
same ab load, profiled through the daemon (two sessions, then the diff endpoints)
and through the command line (two records, then render --diff), must show:

- the function planted under Python 3 (normalize_rows) as the top row;
- its sibling whose code did not change (render_summary) far below: a self-share
  change under a quarter of the planted one's (shares move when any function grows,
  so compare against that, not against zero);
- the server frames both runs share (serve_forever, the wsgiref handler, the WSGI
  application) as matched rows, not a removed/added pair;
- in library mode (three difflib comparisons under 3.x where 2.7 does one), the
  standard library's difflib frames grown.

Each service starts as `python migration_service.py` from a working directory of
its own: 2.7 keeps the relative path, 3.11 makes it absolute, and the two
directories differ, as a deployment moved to a new host's would; the diff's file
for the program's functions is migration_service.py either way.

It prints the share of the after profile's samples that matched and every
unmatched row with its side. Without pyenv's 2.7 or 3.11 it skips, saying so; in
CI (CI set) a missing one fails. It writes only under its temporary directory and
ends only the processes it started.

Usage: migration_diff_test.py PYPROFD_BINARY SOURCE_DIR
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree

PYPROFD, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(SOURCE, "tests", "daemon"))
from daemon_support import Daemon, check, failures, report, wait_for_state  # noqa: E402

SERVICE = os.path.join(SOURCE, "tests/targets/migration_service.py")
AB = "/usr/bin/ab"
RATE_HZ, SESSION_S, RECORD_S = 500, 6, 4
PLANTED, SIBLING = "normalize_rows", "render_summary"
PROGRAM_FILE = "migration_service.py"  # relative to each process's working directory
# (function, normalized file) of the frames both versions run on every request: the
# server's loop and handler, and the application. The function is compared by its
# last component: 2.7 names a method bare (handle), 3.11 qualified (WSGIRequestHandler.handle).
SHARED_FRAMES = [
    ("serve_forever", "<stdlib>/socketserver.py"),
    ("_handle_request_noblock", "<stdlib>/socketserver.py"),
    ("process_request", "<stdlib>/socketserver.py"),
    ("finish_request", "<stdlib>/socketserver.py"),
    ("handle", "<stdlib>/wsgiref/simple_server.py"),
    ("run", "<stdlib>/wsgiref/handlers.py"),
    ("application", PROGRAM_FILE),
    ("render_report", PROGRAM_FILE),
    (SIBLING, PROGRAM_FILE),
    ("compare_revisions", PROGRAM_FILE),
    ("main", PROGRAM_FILE),
]
LIBRARY_FILE = "<stdlib>/difflib.py"
ENDED = {"completed", "stopped", "target_exited", "failed"}


def interpreters_required():
    value = os.environ.get("CI")
    return value is not None and value not in ("", "0", "false")


def pyenv_root():
    if os.path.isdir(os.environ.get("PYENV_ROOT", "")):
        return os.environ["PYENV_ROOT"]
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10).stdout.strip()
        if out and os.path.isdir(out):
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    home = os.path.expanduser("~/.pyenv")
    return home if os.path.isdir(home) else None


def pyenv_python(root, family):
    """The newest pyenv interpreter of family (e.g. '2.7'), or None."""
    if not root:
        return None
    found = sorted(glob.glob(os.path.join(root, "versions", family + ".*", "bin", "python" + family)),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.split("/versions/")[1].split("/")[0])])
    return found[-1] if found else None


class Service:
    """The service on one interpreter, from a working directory of its own, on a free
    port, under ab's load (-c 1) until stopped."""

    def __init__(self, python, work, name, mode):
        self.name = name
        self.directory = os.path.join(work, name)
        os.makedirs(self.directory, exist_ok=True)
        shutil.copyfile(SERVICE, os.path.join(self.directory, PROGRAM_FILE))
        self.process = subprocess.Popen([python, PROGRAM_FILE, "0", mode], cwd=self.directory,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.process.pid
        line = self.process.stdout.readline()
        self.port = int(line) if line.strip().isdigit() else None
        self.load = None
        self.ab_log = os.path.join(work, name + ".ab.txt")

    def start_load(self, seconds):
        with open(self.ab_log, "w") as log:
            # -t: for that long (it implies at most 50,000 requests; -n sets that, and ab
            # keeps a record per request it may make: 100,000 outlast any run here);
            # -r: a failed request does not end the run.
            self.load = subprocess.Popen([AB, "-q", "-r", "-c", "1", "-t", str(seconds), "-n", "100000",
                                          "http://127.0.0.1:%d/" % self.port], stdout=log, stderr=log)

    def stop_load(self):
        """The number of requests ab completed, when it says."""
        if self.load is None:
            return None
        if self.load.poll() is None:
            self.load.send_signal(signal.SIGINT)  # ab prints its figures on SIGINT
            try:
                self.load.wait(10)
            except subprocess.TimeoutExpired:
                self.load.kill()
                self.load.wait()
        self.load = None
        with open(self.ab_log) as f:
            m = re.search(r"Complete requests:\s+(\d+)", f.read())
        return int(m.group(1)) if m else None

    def stop(self):
        self.stop_load()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        errors = self.process.stderr.read().decode(errors="replace")
        self.process.stdout.close()
        self.process.stderr.close()
        return errors


def last_component(function):
    return function.rsplit(".", 1)[-1]


def rows_named(diff, name, file=None):
    return [r for r in diff["rows"] if last_component(r["function"]) == name and (file is None or r["file"] == file)]


def share(value):
    return "-" if value is None else "%.1f%%" % value


def print_unmatched(diff, what):
    unmatched = [r for r in diff["rows"] if r.get("before_total") is None or r.get("after_total") is None]
    print("     %s: %s%% of the after profile's samples matched; %s functions matched; %d unmatched rows:" %
          (what, diff["matched"]["after_samples_percent"], diff["matched"]["functions"], len(unmatched)))
    for r in unmatched:
        side = "after only (added)" if r.get("before_total") is None else "before only (removed)"
        print("       %-22s %s (%s): before %s, after %s" % (side, r["function"], r["file"], share(r.get("before_total")),
                                                           share(r.get("after_total"))))


def check_diff_shape(diff, what, before_version, after_version):
    """The JSON's shape as the lead serves it; False when it is not there at all."""
    if not check(isinstance(diff, dict) and isinstance(diff.get("rows"), list),
                 "%s: a JSON diff with rows (%s)" % (what, str(diff)[:300])):
        return False
    ok = True
    for side, version in (("before", before_version), ("after", after_version)):
        profile = diff.get(side) or {}
        ok &= check(isinstance(profile.get("name"), str) and isinstance(profile.get("samples"), int)
                    and profile["samples"] > 0,
                    "%s: %s names its profile and its samples (%s)" % (what, side, {k: profile.get(k) for k in
                                                                                   ("name", "samples", "python")}))
        check(version in (profile.get("python") or []), "%s: %s's Python versions hold %s (%s)" %
              (what, side, version, profile.get("python")))
    matched = diff.get("matched") or {}
    ok &= check(isinstance(matched.get("functions"), int) and isinstance(matched.get("after_samples_percent"),
                                                                          (int, float)),
                "%s: matched.functions and matched.after_samples_percent (%s)" % (what, matched))
    keys = {"function", "file", "before_total", "after_total", "total_change", "before_self", "after_self",
            "self_change"}
    ok &= check(all(keys <= set(r) for r in diff["rows"]), "%s: every row has %s" % (what, sorted(keys)))
    return ok


def sorted_descending(rows, key):
    values = [r[key] for r in rows]
    return all(a >= b - 1e-9 for a, b in zip(values, values[1:]))


def check_planted_diff(diff, what, before_version, after_version):
    """The checks of issue #15 on one diff of the report mode (JSON)."""
    if not check_diff_shape(diff, what, before_version, after_version):
        return
    rows = diff["rows"]
    check(diff.get("sort") == "self", "%s: sorted by self (%s)" % (what, diff.get("sort")))
    check(sorted_descending(rows, "self_change"), "%s: rows by self_change, largest growth first" % what)
    top = rows[0] if rows else {}
    check(last_component(top.get("function", "")) == PLANTED and top.get("file") == PROGRAM_FILE,
          "%s: the planted %s (%s) is the top row: %s" % (what, PLANTED, PROGRAM_FILE,
                                                           {k: top.get(k) for k in ("function", "file", "self_change")}))
    planted = rows_named(diff, PLANTED, PROGRAM_FILE)
    check(len(planted) == 1 and planted[0]["before_total"] is None and planted[0]["after_total"] > 0,
          "%s: %s is after only (before %s, after %s)" % (what, PLANTED, planted and share(planted[0]["before_total"]),
                                                          planted and share(planted[0]["after_total"])))
    sibling = rows_named(diff, SIBLING, PROGRAM_FILE)
    if check(len(sibling) == 1 and planted, "%s: one row of %s (%d)" % (what, SIBLING, len(sibling))):
        check(abs(sibling[0]["self_change"]) < planted[0]["self_change"] / 4,
              "%s: %s's self change %+.1f is under a quarter of %s's %+.1f" %
              (what, SIBLING, sibling[0]["self_change"], PLANTED, planted[0]["self_change"]))
    # What the graph compares rather than calls new: every stack of after that before
    # has too, frame by frame. All of after but the planted function's share and the
    # little that differs between 2.7's and 3.x's server code (their socket layers).
    matched = diff["matched"]["after_samples_percent"]
    planted_share = planted[0]["after_total"] if planted else 0
    check(matched + planted_share >= 80,
          "%s: after's stacks before has too (%.1f%%) and the planted function's (%.1f%%) make 80%% or more" %
          (what, matched, planted_share))
    for name, file in SHARED_FRAMES:
        named = rows_named(diff, name, file)
        check(len(named) >= 1 and all(r["before_total"] is not None and r["after_total"] is not None for r in named),
              "%s: %s (%s) is matched: %s" % (what, name, file,
                                             [(r["function"], share(r["before_total"]), share(r["after_total"]))
                                              for r in named] or "no row"))
    print_unmatched(diff, what)


def check_library_diff(diff, what, before_version, after_version):
    if not check_diff_shape(diff, what, before_version, after_version):
        return
    library = rows_named(diff, "ratio", LIBRARY_FILE)
    check(len(library) == 1 and library[0]["before_total"] is not None and library[0]["after_total"] is not None,
          "%s: SequenceMatcher.ratio (%s) is matched" % (what, LIBRARY_FILE))
    check(len(library) == 1 and library[0]["total_change"] > 0,
          "%s: its share grew under 3.x: %s -> %s (%+.1f)" % (what, library and share(library[0]["before_total"]),
                                                             library and share(library[0]["after_total"]),
                                                             library[0]["total_change"] if library else 0))
    matched = diff["matched"]["after_samples_percent"]
    check(matched >= 80, "%s: 80%% or more of after's samples are on stacks before has (%.1f%%)" % (what, matched))
    difflib_rows = [r for r in diff["rows"] if r["file"] == LIBRARY_FILE]
    check(sum(r["self_change"] for r in difflib_rows) > 0,
          "%s: difflib's frames grew in self share too: %s" % (what, [(r["function"], round(r["self_change"], 1))
                                                                      for r in difflib_rows]))
    print_unmatched(diff, what)


def check_text(text, what, before, after):
    """The table: a header naming both profiles with their samples and Python versions,
    then rows of `BEFORE%  AFTER%  +CHANGE  SELF-CHANGE  function (file)`."""
    lines = text.splitlines()
    row = re.compile(r"^\s*(-|[\d.]+%)\s+(-|[\d.]+%)\s+([+-]?[\d.]+)\s+([+-]?[\d.]+)(?:%|pt)?\s+(\S.*) \((.+)\)\s*$")
    rows = [m for m in map(row.match, lines) if m]
    first_row = next((i for i, line in enumerate(lines) if row.match(line)), len(lines))
    header = "\n".join(lines[:first_row])
    for side, (samples, version) in (("before", before), ("after", after)):
        counts = (str(samples), "{:,}".format(samples)) if isinstance(samples, int) else ()
        check(any(c in header for c in counts) and version in header,
              "%s: the header names the %s profile's %s samples and Python %s" % (what, side, samples, version))
    check("share" in header.lower(), "%s: the header says it compares shares" % what)
    planted = [m for m in rows if last_component(m.group(5)) == PLANTED]
    check(bool(rows) and last_component(rows[0].group(5)) == PLANTED and rows[0].group(6) == PROGRAM_FILE,
          "%s: the first row is %s (%s): %r" % (what, PLANTED, PROGRAM_FILE, rows and rows[0].group(0)))
    check(len(planted) == 1 and planted[0].group(1) == "-" and planted[0].group(3).startswith("+"),
          "%s: its row reads `-  AFTER%%  +CHANGE`: %r" % (what, planted and planted[0].group(0)))
    sibling = [m for m in rows if last_component(m.group(5)) == SIBLING]
    check(len(sibling) == 1 and sibling[0].group(1) != "-" and sibling[0].group(2) != "-",
          "%s: %s has both shares: %r" % (what, SIBLING, sibling and sibling[0].group(0)))


def under_load(service, seconds):
    """Starts ab on the service and lets it reach its pace."""
    service.start_load(seconds)
    time.sleep(0.5)


def stop_load(service, what):
    requests = service.stop_load()
    check(requests is not None and requests > 100, "ab completed requests on %s meanwhile: %s" % (what, requests))


def run_sessions(daemon, services, options):
    """Session ids (before, after): one after the other, each service under load only
    while it is sampled, so that the two services, their loads and the sampler do not
    crowd this machine's two cores (a thread waiting for a core counts where it stands,
    and crowding moves shares)."""
    ids = []
    for service in services:
        under_load(service, SESSION_S + 60)
        body = dict({"pid": service.pid, "rate_hz": RATE_HZ, "duration_s": SESSION_S}, **options)
        status, _, s = daemon.request("POST", "/sessions", body)
        check(status == 201, "POST /sessions %s: 201 (%s %s)" % (json.dumps(body), status, str(s)[:200]))
        sid = s["id"] if status == 201 else None
        if sid:
            done = wait_for_state(daemon, sid, ENDED, SESSION_S + 60)
            check(done is not None and done["state"] == "completed" and done["samples"] > RATE_HZ,
                  "session %s on %s completes with its samples (%s, %s samples)" %
                  (sid, service.name, done and done["state"], done and done["samples"]))
        stop_load(service, service.name)
        ids.append(sid)
    return ids


def checked(check_json, diff, what, *versions):
    """Runs a diff's checks; a diff of another shape than expected fails them, it
    does not end the test."""
    try:
        check_json(diff, what, *versions)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        check(False, "%s: the diff has the shape the checks read (%s: %s)" % (what, type(e).__name__, e))


def session_diff(daemon, before, after, what, versions, check_json):
    if not (before and after):
        return
    base = "/sessions/%s/diff/%s" % (before, after)
    status, headers, diff = daemon.request("GET", base + ".json")
    if status != 200 or not isinstance(diff, dict) or diff.get("matched", {}).get("after_samples_percent", 0) < 30:
        for sid, side in ((before, "before"), (after, "after")):
            print_heaviest_stacks(daemon, sid, "%s (%s)" % (what, side))
    if check(status == 200, "%s: GET %s.json: 200 (%s)" % (what, base, status if status == 200 else (status, diff))):
        checked(check_json, diff, what + " (JSON)", *versions)
    if check_json is check_library_diff:
        return
    status, headers, by_total = daemon.request("GET", base + ".json?sort=total")
    if check(status == 200 and isinstance(by_total, dict) and "rows" in by_total,
             "%s: GET %s.json?sort=total: 200 (%s)" % (what, base, status)):
        check(by_total.get("sort") == "total" and sorted_descending(by_total["rows"], "total_change"),
              "%s: ?sort=total sorts by total_change (%s)" % (what, by_total.get("sort")))
    status, headers, text = daemon.request("GET", base + ".txt", raw=True)
    if check(status == 200 and (headers.get("Content-Type") or "").startswith("text/plain"),
             "%s: GET %s.txt: 200 text/plain (%s %s)" % (what, base, status, headers.get("Content-Type"))):
        text = text.decode()
        print("     the table's first lines:\n" + "\n".join("       " + l for l in text.splitlines()[:14]))
        samples = [diff[s]["samples"] if isinstance(diff, dict) and s in diff else "?" for s in ("before", "after")]
        checked(check_text, text, what + " (text)", (samples[0], versions[0]), (samples[1], versions[1]))
    status, headers, svg = daemon.request("GET", base + ".svg", raw=True)
    parsed = None
    try:
        parsed = ElementTree.fromstring(svg)
    except ElementTree.ParseError as e:
        print("     the SVG does not parse: %s" % e)
    check(status == 200 and parsed is not None and parsed.tag.endswith("svg") and PLANTED.encode() in svg,
          "%s: GET %s.svg: 200, a well-formed SVG naming %s (%s, %d bytes)" % (what, base, PLANTED, status, len(svg)))


def measured_twice_if_crowded(measure, what):
    """Measures (sessions and their diff); if a check failed, once more. A wall-clock
    sampler counts a thread waiting for a core where it stands, so a burst of another
    program's work on this 2-core machine (another test booting a container) can move
    one function's share by ten points in a 6 s session; a second measurement, with
    its own noise, tells that apart from a diff that is wrong, which fails both. The
    first attempt's failures are printed, and count if the second fails too."""
    before = len(failures)
    measure()
    if len(failures) == before:
        return
    first = failures[before:]
    del failures[before:]
    print("     %s: the first measurement failed %d check(s), measured again: %s" % (what, len(first), first))
    measure()
    if len(failures) > before:
        failures[before:before] = ["(first attempt) " + f for f in first]


def print_heaviest_stacks(daemon, sid, what, count=3):
    """The session's heaviest stacks, to read a diff that went wrong by."""
    status, _, folded = daemon.request("GET", "/sessions/%s/folded" % sid, raw=True)
    if status != 200:
        return
    stacks = []
    for line in folded.decode(errors="replace").splitlines():
        if line and not line.startswith("#"):
            stack, _, n = line.rpartition(" ")
            stacks.append((int(n), stack))
    stacks.sort(reverse=True)
    print("     %s's heaviest stacks:" % what)
    for n, stack in stacks[:count]:
        print("       %6d  %s" % (n, stack[-400:]))


def cli_diff(services, work, versions):
    """The same through the command line: a record of each, then render --diff."""
    files = [os.path.join(work, name) for name in ("before.folded", "after.folded")]
    for service, f in zip(services, files):
        under_load(service, RECORD_S + 60)
        r = subprocess.run([PYPROFD, "record", "--pid", str(service.pid), "--duration", str(RECORD_S), "-o", f],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=RECORD_S + 60)
        check(r.returncode == 0 and os.path.exists(f), "pyprofd record --pid %d --duration %d -o %s: exit 0 (%s; %s)" %
              (service.pid, RECORD_S, os.path.basename(f), r.returncode, r.stdout.strip()[-300:]))
        stop_load(service, service.name)
    if not all(os.path.exists(f) for f in files):
        return
    text = subprocess.run([PYPROFD, "render", "--diff", "--format", "text"] + files, capture_output=True, text=True,
                          timeout=60)
    if check(text.returncode == 0, "pyprofd render --diff --format text before.folded after.folded: exit 0 (%s)" %
             text.stderr.strip()[-300:]):
        print("     the table's first lines:\n" + "\n".join("       " + l for l in text.stdout.splitlines()[:14]))
    as_json = subprocess.run([PYPROFD, "render", "--diff", "--format", "json"] + files, capture_output=True, text=True,
                             timeout=60)
    diff = None
    if check(as_json.returncode == 0, "pyprofd render --diff --format json: exit 0 (%s)" % as_json.stderr.strip()[-300:]):
        try:
            diff = json.loads(as_json.stdout)
        except ValueError as e:
            check(False, "its output is JSON (%s: %r)" % (e, as_json.stdout[:200]))
    if diff is not None:
        checked(check_planted_diff, diff, "CLI (JSON)", *versions)
    if text.returncode == 0:
        samples = [diff.get(s, {}).get("samples", "?") if isinstance(diff, dict) else "?" for s in ("before", "after")]
        checked(check_text, text.stdout, "CLI (text)", (samples[0], versions[0]), (samples[1], versions[1]))


def version_of(python):
    out = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def start_services(pythons, work, mode):
    services = [Service(python, work, "py%s-%s" % (name, mode), mode) for name, python in pythons]
    for s, (name, _) in zip(services, pythons):
        check(s.port is not None, "the service starts on %s in %s mode (port %s)" % (name, mode, s.port))
    return services


def stop_services(services):
    """Stops them, checking that none wrote an error but the client's hanging up (ab
    stopped in the middle of a request)."""
    for s in services:
        errors = s.stop()
        unexpected = [line for line in errors.splitlines()
                      if re.match(r"^\w*(Error|Exception|error)\b", line) and not re.search(
                          r"Broken pipe|Connection reset|BrokenPipeError|ConnectionResetError", line)]
        check(not unexpected, "the %s service wrote no error but a client's hanging up (%s)" % (s.name, unexpected))


def main():
    root = pyenv_root()
    pythons = [("2.7", pyenv_python(root, "2.7")), ("3.11", pyenv_python(root, "3.11"))]
    missing = [name for name, python in pythons if python is None]
    if missing:
        what = "pyenv's Python %s (pyenv root: %s)" % (" and ".join(missing), root)
        if interpreters_required():
            check(False, "MISSING in CI: " + what)
            return report()
        print("SKIPPED: %s not installed; the migration diff needs both" % what)
        return 0
    if not check(os.access(AB, os.X_OK), "ab is there (%s, Debian's apache2-utils: scripts/deps-test.txt)" % AB):
        return report()
    versions = tuple(version_of(python) for _, python in pythons)
    print("before: %s (%s), after: %s (%s)" % (pythons[0][1], versions[0], pythons[1][1], versions[1]))
    work = tempfile.mkdtemp(prefix="pyprofd-migration-diff-")
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    services = []
    try:
        # The planted function: two sessions by function, two with the default labels
        # (by line), then two records through the command line.
        services = start_services(pythons, work, "report")
        if all(s.port for s in services):
            for options, what in (({"function": True}, "sessions by function"), ({}, "sessions by line")):
                measured_twice_if_crowded(lambda: session_diff(daemon, *run_sessions(daemon, services, options), what,
                                                               versions, check_planted_diff), what)
            cli_diff(services, work, versions)
        stop_services(services)
        services = []

        # The library: more time in difflib under 3.x, the program's own code the same.
        services = start_services(pythons, work, "library")
        if all(s.port for s in services):
            before, after = run_sessions(daemon, services, {"function": True})
            session_diff(daemon, before, after, "library sessions by function", versions, check_library_diff)
        stop_services(services)
        services = []
    finally:
        for s in services:
            s.stop()
        daemon.stop(signal.SIGTERM, 30)
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
