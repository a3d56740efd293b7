# The 2 -> 3 migration check's service (issue #15): a WSGI application on the
# standard library's wsgiref, which runs unchanged on CPython 2.7 and 3.6-3.15.
#
#   python migration_service.py PORT [MODE]
#
# PORT 0 picks a free port; the port is printed on the first line either way.
# It serves until killed. Every request to / renders a report and a summary and
# compares two revisions of a text (difflib); /report, /summary and /compare do
# one of them each. The work is the same on every version, except what is planted
# under Python 3, where the diff must find it:
#
#   MODE "report" (default): render_report() also calls normalize_rows(), which
#     costs about as much as render_report's own loop. render_summary(), its
#     sibling, does not change. The summary is kept under a tenth of the request's
#     time: when a planted function takes a share p, every other function's share
#     shrinks by its own share times p, and the test wants the sibling's change
#     under p/4 (tests/daemon/migration_diff_test.py), so its share must stay well
#     under a quarter, on a crowded machine too.
#   MODE "library": nothing of the program's own grows; instead the comparison
#     runs difflib (pure Python on every version) three times rather than once, so
#     the time spent in the standard library's difflib.py grows.
import difflib
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

MODE = sys.argv[2] if len(sys.argv) > 2 else "report"
if MODE not in ("report", "library"):
    sys.exit("usage: migration_service.py PORT [report|library]")
PYTHON3 = sys.version_info[0] >= 3

# Loop counts: with these a request costs 5-10 ms of CPU, so that what the server
# costs per request (reading it, writing the answer) is a small part of the profile.
REPORT_ROUNDS = 150
SUMMARY_ROUNDS = 15
ROWS = [(number, "item-%d" % number, (number * 7919) % 1000) for number in range(200)]
OLD_TEXT = ["line %d of the text" % n for n in range(160)]
NEW_TEXT = [line if n % 7 else "changed line %d" % n for n, line in enumerate(OLD_TEXT)]


def normalize_rows(rows):
    # Planted: runs under Python 3 only, as much work again as render_report's loop.
    total = 0
    for _ in range(REPORT_ROUNDS):
        for number, name, value in rows:
            total = (total + number * value + len(name)) % 1000003
    return rows if total >= 0 else []


def render_report(rows):
    if PYTHON3 and MODE == "report":
        rows = normalize_rows(rows)
    total = 0
    for _ in range(REPORT_ROUNDS):
        for number, name, value in rows:
            total = (total + number * value + len(name)) % 1000003
    return "report %d\n" % total


def render_summary(rows):
    total = 0
    for _ in range(SUMMARY_ROUNDS):
        for number, name, value in rows:
            total = (total + number * value + len(name)) % 1000003
    return "summary %d\n" % total


def compare_revisions():
    times = 3 if PYTHON3 and MODE == "library" else 1
    ratio = 0.0
    for _ in range(times):
        ratio = difflib.SequenceMatcher(None, OLD_TEXT, NEW_TEXT).ratio()
    return "similarity %.3f\n" % ratio


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        body = render_report(ROWS) + render_summary(ROWS) + compare_revisions()
    elif path == "/report":
        body = render_report(ROWS)
    elif path == "/summary":
        body = render_summary(ROWS)
    elif path == "/compare":
        body = compare_revisions()
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    data = body.encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


class QuietHandler(WSGIRequestHandler):
    # wsgiref logs every request to stderr; under load that is thousands of lines.
    def log_message(self, format, *args):
        pass


def main():
    server = make_server("127.0.0.1", int(sys.argv[1]), application, handler_class=QuietHandler)
    sys.stdout.write("%d\n" % server.server_port)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
