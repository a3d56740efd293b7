# The program whose frames make the label sets of issue #15's frame-identity tests
# (tests/render/make_label_sets.py). It runs unchanged on CPython 2.7 and 3.6-3.15
# and keeps threads busy in the parts of the standard library that Python 3 renamed
# or moved (SocketServer/socketserver, BaseHTTPServer/http.server, httplib/
# http.client, urllib2/urllib.request, Queue/queue), in threading and json, in a
# module of its own in a subdirectory (helpers/records.py), and in an installed
# package where the interpreter has one (pip's vendored packaging).
#
# Its first line of output is the ground truth the frames should be normalized
# against: {"python_version", "working_directory", "standard_library",
# "standard_library_realpath", "site_packages"}; then "READY" once every thread
# runs. It runs until killed. Start it by a relative path from its parent
# directory (`python app/label_program.py`), so that 2.7 keeps the relative path
# in its code objects and 3.9+ an absolute one.
import json
import os
import sys
import threading
import time

try:
    import queue
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.request import urlopen
except ImportError:  # Python 2
    import Queue as queue
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer
    from urllib2 import urlopen

from helpers.records import RecordBuilder, make_records

try:
    from pip._vendor.packaging.version import Version as InstalledVersion
except Exception:  # no pip here (Debian sid's root): no installed package's frames
    InstalledVersion = None


def ground_truth():
    import site
    standard_library = os.path.dirname(os.__file__)
    packages = []
    if hasattr(site, "getsitepackages"):
        packages.extend(site.getsitepackages())
    packages.extend(p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and p not in packages)
    return {
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "working_directory": os.getcwd(),
        "standard_library": standard_library,
        "standard_library_realpath": os.path.realpath(standard_library),
        "site_packages": packages,
    }


class RowsHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(make_records(40)).encode("ascii")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def fetch_forever(port):
    while True:
        response = urlopen("http://127.0.0.1:%d/rows" % port)
        json.loads(response.read().decode("ascii"))
        response.close()


def produce(jobs):
    builder = RecordBuilder()
    while True:
        jobs.put(builder.build(30))


def consume(jobs):
    while True:
        records = jobs.get()
        json.loads(json.dumps(records, sort_keys=True))


def compare_versions():
    while True:
        versions = [InstalledVersion("1.%d.%d" % (n, n * 3)) for n in range(100)]
        sorted(versions)
        time.sleep(0.002)


def start(name, target, *args):
    thread = threading.Thread(target=target, name=name, args=args)
    thread.daemon = True
    thread.start()


def main():
    sys.stdout.write(json.dumps(ground_truth()) + "\n")
    server = HTTPServer(("127.0.0.1", 0), RowsHandler)
    start("http-server", server.serve_forever)
    start("http-client", fetch_forever, server.server_address[1])
    jobs = queue.Queue(maxsize=8)
    start("producer", produce, jobs)
    start("consumer", consume, jobs)
    if InstalledVersion is not None:
        start("installed-package", compare_versions)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
