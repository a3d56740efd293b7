#!/usr/bin/env python3
"""Browsers against the daemon, in a real one (headless Chromium): pages from other
origins, served on this host as any local user could serve them, try what a
malicious page would, and the daemon refuses each:
- from another loopback address (cross-site) and from another port (same-site): a
  fetch() POST that needs no preflight, and an HTML form POST whose text/plain body is
  a session request; no session exists afterwards, and the daemon's log shows each
  request arrived and got 403 (so it was the daemon, not the browser, that said no);
- DNS rebinding: a name of the attacker's that resolves to 127.0.0.1 (Chromium's
  --host-resolver-rules) loads the daemon's session list: 421, nothing read.
Then the daemon's own flame graph, opened in Chromium from the daemon, runs its script
under the daemon's Content-Security-Policy: the search highlights and says how much
it matched.

Usage: cross_origin_browser_test.py PYPROFD_BINARY SOURCE_DIR
"""
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from webdriver_support import browser_missing, chromium  # noqa: E402
from daemon_support import PYTHON, Daemon, check, report, wait_for_state  # noqa: E402

ATTACK_PAGE = """<!DOCTYPE html><html><head><title>loading</title></head><body>
<iframe name="sink" style="display:none"></iframe>
<form id="csrf" method="POST" action="http://127.0.0.1:{port}/sessions" enctype="text/plain" target="sink">
<input name='{{"pid": {pid}, "duration_s": 1, "name": "csrf-form", "x": "' value='"}}'></form>
<script>
var done = 0;
function finish(what) {{ done += 1; if (done == 2) document.title = "tried"; }}
fetch("http://127.0.0.1:{port}/sessions", {{method: "POST", mode: "no-cors",
      headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{pid: {pid}, duration_s: 1, name: "csrf-fetch"}})}})
  .then(function () {{ finish("fetch"); }}, function () {{ finish("fetch"); }});
document.querySelector("iframe").addEventListener("load", function () {{ finish("form"); }});
document.getElementById("csrf").submit();
</script></body></html>
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_page(directory, address):
    server = http.server.ThreadingHTTPServer((address, 0), functools.partial(Quiet, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_title(driver, wanted, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.js("return document.title;") == wanted:
            return True
        time.sleep(0.1)
    return False


def main():
    if browser_missing():
        print("FAIL " + browser_missing())
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-cross-origin-test-")
    target = subprocess.Popen([PYTHON, os.path.join(SOURCE, "tests", "targets", "busy_and_idle.py")], stdout=subprocess.PIPE)
    target.stdout.readline()
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    site = os.path.join(work, "site")
    os.mkdir(site)
    with open(os.path.join(site, "attack.html"), "w") as f:
        f.write(ATTACK_PAGE.format(port=daemon.port, pid=target.pid))
    servers = [serve_page(site, "127.0.0.2"), serve_page(site, "127.0.0.1")]
    try:
        with chromium(["--host-resolver-rules=MAP rebind.attacker.example 127.0.0.1"]) as driver:
            for server, what in zip(servers, ("another loopback address (cross-site)", "another port (same-site)")):
                refused_before = daemon.log().count('"POST /sessions" 403')
                host, port = server.server_address[:2]
                driver.open("http://%s:%d/attack.html" % (host, port))
                check(wait_title(driver, "tried"), "a page from %s tried a fetch() and a form POST" % what)
                time.sleep(0.5)
                refused = daemon.log().count('"POST /sessions" 403') - refused_before
                check(refused == 2, "the daemon got both and refused both (403): %d refused" % refused)
            status, _, listed = daemon.request("GET", "/sessions")
            check(status == 200 and listed["total"] == 0, "no session exists afterwards: %s" % listed.get("total"))

            driver.open("http://rebind.attacker.example:%d/sessions" % daemon.port)
            text = driver.js("return document.body ? document.body.innerText : '';")
            check("Misdirected request" in text and '"sessions"' not in text,
                  "DNS rebinding: a foreign name for 127.0.0.1 gets 421 and reads nothing: %r" % text[:80])

            status, _, session = daemon.request("POST", "/sessions", {"pid": target.pid, "rate_hz": 200, "duration_s": 1})
            done = wait_for_state(daemon, session["id"], {"completed"})
            check(done is not None, "a session of the daemon's own, for its graph")
            driver.open("http://127.0.0.1:%d/sessions/%s/flame.svg?s=spin" % (daemon.port, session["id"]))
            matched = ""
            for _ in range(50):
                matched = driver.js("var m = document.getElementById('matched'); return m ? m.textContent : '';") or ""
                if matched:
                    break
                time.sleep(0.1)
            check(re.match(r"Matched: [\d.]+%", matched) is not None,
                  "the graph served under the daemon's CSP runs its script: the search says %r" % matched)
            highlighted = driver.js("return document.querySelectorAll('#frames > g.match').length;")
            check(highlighted > 0, "and highlights the matching frames (%s)" % highlighted)
    finally:
        for server in servers:
            server.shutdown()
        daemon.stop()
        target.kill()
        target.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
