#!/usr/bin/env python3
"""The console (GET /) in a real browser: headless Chromium through ChromeDriver.

Against a real daemon and a Python target (tests/targets/heavy_light.py) it
1. opens the console: its own style and script run (under the daemon's strict CSP);
2. finds the target in the process list;
3. starts a session from the form;
4. watches the live graph gain samples, a search typed in the console and a zoom
   clicked in the graph both kept across a redraw;
5. stops the session;
6. compares it against a second session: the differential graph and its table;
7. takes a screenshot at each step into the output directory (printed);
then the console at 800 px wide (nothing wider than the window), read with
JavaScript off (sessions and their links to every format are there and answer),
and a session deleted (two clicks).
Last, in a network namespace of its own where the browser is "another host" to the
daemon: the console asks for a token, takes it, and shows a live graph fetched with
it; the token is in no URL, no cookie and no log, and another tab does not have it.

Usage: console_browser_test.py PYPROFD_BINARY SOURCE_DIR [OUTPUT_DIR]
       (with --token-part: the last part only, run inside the namespace)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from webdriver_support import browser_missing, chromium  # noqa: E402
from daemon_support import PYTHON, Daemon, check, report  # noqa: E402

PYPROFD = sys.argv[1]
SOURCE = sys.argv[2]
OUTPUT = sys.argv[3] if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else None
TARGET = os.path.join(SOURCE, "tests", "targets", "heavy_light.py")
REMOTE = "198.51.100.1"  # TEST-NET-2, on the namespace's own lo: not loopback to the daemon
TOKEN = "console-token-0123456789abcdef"

# The graph shown in a section of the console (its frame that is not still loading).
GRAPH_STATE = """
var f = document.querySelector(arguments[0] + ' iframe:not(.pending)');
var w = f && f.contentWindow, doc = f && f.contentDocument;
if (!w || !w.fg || !w.fg.frames) return null;
var legend = doc.querySelector('#legend text');
return {src: f.src, total: w.fg.total, search: w.fg.search, zoomed: w.fg.zoomed ? w.fg.zoomed.name : null,
        matches: doc.querySelectorAll('#frames > g.match').length,
        matched: doc.getElementById('matched').textContent,
        hidden: doc.querySelectorAll('#frames > g.hide').length,
        width: f.getBoundingClientRect().width, svgWidth: +doc.documentElement.getAttribute('width'),
        titleAnchor: getComputedStyle(doc.getElementById('title')).textAnchor,
        legendAnchor: legend ? getComputedStyle(legend).textAnchor : null,
        baseline: doc.documentElement.getAttribute('data-baseline-total')};
"""

PROGRESS = """
var out = {};
document.querySelectorAll('#live-progress dd').forEach(function (dd) { out[dd.getAttribute('data-field')] = dd.textContent; });
return document.getElementById('live').hidden ? null : out;
"""


class Shots:
    """Numbered screenshots into one directory."""

    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        os.makedirs(directory, exist_ok=True)

    def take(self, driver, name):
        self.count += 1
        path = driver.screenshot(os.path.join(self.directory, "%02d-%s.png" % (self.count, name)))
        check(os.path.getsize(path) > 1000, "screenshot %s" % os.path.basename(path))
        return path


def click_row(driver, css, tries=10):
    """Clicks an element of a list the console draws again every few seconds: a click
    may find the row it looked up replaced, and then looks again."""
    for _ in range(tries):
        try:
            driver.click(css)
            return True
        except Exception:
            time.sleep(0.3)
    return False


def graph(driver, section):
    return driver.js(GRAPH_STATE, section)


def wait_graph(driver, section, condition, timeout=30):
    """The section's graph once condition(state) holds, or its last state."""
    deadline = time.time() + timeout
    state = None
    while time.time() < deadline:
        state = graph(driver, section)
        if state and condition(state):
            return state
        time.sleep(0.3)
    return state


def start_from_form(driver, pid, rate, duration, name):
    """Opens the process's form from its row and starts a session; the new session's id."""
    driver.js("window.__listed = Array.from(document.querySelectorAll('#sessions tbody tr'))"
              ".map(function (r) { return r.getAttribute('data-id'); }); return true;")
    if not click_row(driver, "#processes tr[data-pid='%d'] button[data-action=profile]" % pid):
        return None
    driver.wait("return !document.getElementById('start').hidden;", 5)
    driver.type("#start-form input[name=rate_hz]", str(rate))
    driver.type("#start-form input[name=duration_s]", str(duration))
    driver.type("#start-form input[name=name]", name)
    driver.click("#start-form button[type=submit]")
    # The new one: listed, and in the live view.
    return driver.wait("""
        var ids = Array.from(document.querySelectorAll('#sessions tbody tr')).map(function (r) { return r.getAttribute('data-id'); })
            .filter(function (id) { return window.__listed.indexOf(id) < 0; });
        return !document.getElementById('live').hidden && ids.length === 1 &&
               document.getElementById('live-title').textContent === ids[0] ? ids[0] : null;""", 20)


def console_steps(driver, daemon, target, shots):
    url = "http://127.0.0.1:%d/" % daemon.port
    # 1. The console: its style and its script run under the daemon's policy.
    driver.open(url)
    opened = driver.wait("return document.documentElement.classList.contains('scripted') && "
                         "getComputedStyle(document.querySelector('th')).fontWeight;", 10)
    check(opened in ("600", 600), "1. the console opens: its script runs and its style applies (%r)" % opened)
    with urllib.request.urlopen(url) as r:
        csp = r.headers.get("Content-Security-Policy", "")
    check("script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp and "connect-src 'self'" in csp,
          "   under a strict policy: %s" % csp)
    shots.take(driver, "console")

    # 2. The target in the process list.
    row = driver.wait("var r = document.querySelector(\"#processes tr[data-pid='%d']\"); return r ? r.textContent : null;"
                      % target.pid, 20)
    check(row and "heavy_light.py" in row, "2. the target is in the process list: %r" % row)
    shots.take(driver, "processes")

    # 3. A session from the form.
    first = start_from_form(driver, target.pid, 200, 60, "console live")
    check(first is not None, "3. a session starts from the form and opens in the live view: %s" % first)
    if not first:
        return
    progress = driver.wait("var p = (function () {%s})(); return p && +p.samples > 0 ? p : null;" % PROGRESS, 15)
    check(progress and progress["state"] == "running" and progress["name"] == "console live",
          "   its progress shows beside the graph: %s" % progress)
    shots.take(driver, "started")

    # 4. The live graph grows; a search typed here and a zoom clicked in the graph stay.
    drawn = wait_graph(driver, "#live-graph", lambda s: s["total"] > 0, 20)
    check(drawn is not None and drawn["src"].startswith("blob:") and drawn["titleAnchor"] == "middle",
          "4. the live graph is drawn from a blob: URL, its own script and style running: %s" %
          (drawn and {k: drawn[k] for k in ("src", "total", "titleAnchor")}))
    driver.type("#live-search", "heavy (")
    driver.click("#live-search-form button[type=submit]")
    searched = wait_graph(driver, "#live-graph", lambda s: s["search"] == "heavy (" and s["matches"] > 0, 10)
    check(searched is not None and searched["search"] == "heavy (" and re.match(r"Matched: [\d.]+%", searched["matched"]),
          "   the search highlights frames: %s" % (searched and searched["matched"]))
    zoomed_to = driver.js("""
        var w = document.querySelector('#live-graph iframe:not(.pending)').contentWindow;
        var g = w.fg.frames.filter(function (g) { return g.name.indexOf('heavy (') === 0; })
                           .sort(function (a, b) { return b.samples - a.samples; })[0];
        if (!g) return null;
        g.rect.dispatchEvent(new MouseEvent('click', {bubbles: true}));
        return g.name;""")
    check(zoomed_to is not None and graph(driver, "#live-graph")["zoomed"] == zoomed_to,
          "   a click on a frame zooms to it: %s" % zoomed_to)
    shots.take(driver, "live-searched")
    redrawn = wait_graph(driver, "#live-graph", lambda s: s["src"] != searched["src"] and s["total"] > searched["total"], 15)
    check(redrawn is not None and redrawn["total"] > searched["total"],
          "   the graph is drawn again with more samples: %s -> %s" % (searched["total"], redrawn and redrawn["total"]))
    check(redrawn is not None and redrawn["search"] == "heavy (" and redrawn["matches"] > 0 and
          driver.js("return document.getElementById('live-search').value;") == "heavy (",
          "   the search is kept across the redraw: %s" % (redrawn and redrawn["matched"]))
    check(redrawn is not None and redrawn["zoomed"] == zoomed_to and redrawn["hidden"] > 0,
          "   and so is the zoom: %s" % (redrawn and redrawn["zoomed"]))
    driver.js("document.getElementById('live').scrollIntoView();")  # the picture README shows (docs/console.png)
    shots.take(driver, "live-redrawn")

    # 5. Stop.
    driver.click("#live-stop")
    stopped = driver.wait("var p = (function () {%s})(); return p && p.state !== 'running' ? p.state : null;" % PROGRESS, 15)
    row_state = driver.wait("var c = document.querySelector(\"#sessions tr[data-id='%s'] td.state\");"
                            "return c && c.textContent !== 'running' ? c.textContent : null;" % first, 10)
    check(stopped == "stopped" and row_state == "stopped",
          "5. stop ends the session: %s in the live view, %s in the list" % (stopped, row_state))
    shots.take(driver, "stopped")

    # 6. A second session, then the two compared.
    second = start_from_form(driver, target.pid, 200, 2, "console after")
    done = driver.wait("var p = (function () {%s})(); return p && p.state === 'completed' ? p : null;" % PROGRESS, 20)
    check(second is not None and done is not None, "6. a second session runs to its end: %s" % second)
    if not second:
        return
    driver.wait("return document.querySelector(\"#sessions tr[data-id='%s'] td.state\").textContent === 'completed';"
                % second, 10)
    picked = (click_row(driver, "#sessions tr[data-id='%s'] input[name=before]" % first) and
              click_row(driver, "#sessions tr[data-id='%s'] input[name=after]" % second))
    driver.click("#compare-button")
    compared = wait_graph(driver, "#compare-graph", lambda s: s["baseline"] is not None, 20)
    table = driver.wait("return document.getElementById('compare-table').textContent;", 10)
    check(picked and compared is not None and compared["legendAnchor"] == "end",
          "   the differential graph shows, its legend styled (by hash): %s" %
          (compared and {k: compared[k] for k in ("baseline", "total", "legendAnchor")}))
    check(table and "heavy" in table, "   and its table: %r" % (table or "")[:120])
    driver.js("document.getElementById('compare').scrollIntoView();")
    shots.take(driver, "compared")

    # At 800 px wide: nothing wider than the window; the graph drawn to fit.
    driver.window_size(800, 1000)
    driver.js("window.scrollTo(0, 0);")
    shown = click_row(driver, "#sessions tr[data-id='%s'] button[data-action=live]" % first)
    narrow = wait_graph(driver, "#live-graph", lambda s: s["svgWidth"] < 800, 15)
    check(shown, "800 px: a session's buttons can be clicked")
    overflow = driver.js("return [document.documentElement.scrollWidth, window.innerWidth];")
    check(overflow[0] <= overflow[1], "800 px: the page is no wider than the window (%d of %d px)" % tuple(overflow))
    check(narrow is not None and narrow["svgWidth"] < 800 and narrow["svgWidth"] <= narrow["width"],
          "800 px: the graph is drawn as wide as its place: %s" % (narrow and [narrow["svgWidth"], narrow["width"]],))
    shots.take(driver, "narrow-800")
    driver.window_size(1300, 900)
    return first, second


def check_without_javascript(daemon, target, sessions, shots):
    """JavaScript off: the processes, the sessions, their links to every format, readable and answering."""
    with chromium(prefs={"profile.managed_default_content_settings.javascript": 2}, window=(1300, 900)) as driver:
        driver.open("http://127.0.0.1:%d/" % daemon.port)
        listed = driver.s("POST", "/elements", {"using": "css selector", "value": "#processes tr[data-pid='%d']" % target.pid})
        check(len(listed) == 1, "no script: the target is in the process list")
        rows = driver.s("POST", "/elements", {"using": "css selector", "value": "#sessions tbody tr"})
        check(len(rows) >= 2, "no script: the sessions are listed (%d rows)" % len(rows))
        links = []
        for sid in sessions:
            found = driver.s("POST", "/elements", {"using": "css selector", "value": "#sessions tr[data-id='%s'] td.links a" % sid})
            hrefs = [driver.s("GET", "/element/%s/attribute/href" % list(a.values())[0]) for a in found]
            check(sorted(h.rsplit("/", 1)[1] for h in hrefs) == ["flame.svg", "folded", "profile.pb.gz", "speedscope.json"],
                  "no script: session %s links to every format" % sid)
            links += hrefs
        answered = [urllib.request.urlopen("http://127.0.0.1:%d%s" % (daemon.port, h)).status for h in links]
        check(links and all(s == 200 for s in answered), "no script: every link answers 200 (%d links)" % len(links))
        button = driver.element("#compare-button")
        check(not driver.s("GET", "/element/%s/displayed" % button), "no script: what needs one is not shown")
        shots.take(driver, "no-javascript")


def check_delete(driver, daemon, sid):
    """Delete takes a second click (no dialog, no slip); then the session is gone."""
    button = "#sessions tr[data-id='%s'] button[data-action=delete]" % sid
    click_row(driver, button)
    armed = driver.js("var b = document.querySelector(\"%s\"); return b && b.textContent;" % button)
    status, _, _ = daemon.request("GET", "/sessions/" + sid)
    check(armed == "really delete?" and status == 200, "delete: a first click asks again (%r), nothing deleted" % armed)
    click_row(driver, button)
    gone = driver.wait("return document.querySelector(\"#sessions tr[data-id='%s']\") === null;" % sid, 10)
    status, _, _ = daemon.request("GET", "/sessions/" + sid)
    check(gone and status == 404, "delete: the second deletes it (a same-origin DELETE the guard lets through): %s" % status)


def main():
    if browser_missing():
        print("FAIL " + browser_missing())
        return 1
    if "--token-part" in sys.argv:
        return token_part()
    work = tempfile.mkdtemp(prefix="pyprofd-console-test-")
    output = OUTPUT or os.path.join(work, "screenshots")
    if OUTPUT:
        shutil.rmtree(output, ignore_errors=True)
    print("screenshots in %s" % output, flush=True)
    shots = Shots(output)
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()
    daemon = Daemon(PYPROFD, ["--listen", "127.0.0.1:0", "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    try:
        with chromium(window=(1300, 900)) as driver:
            sessions = console_steps(driver, daemon, target, shots)
            if sessions:
                check_without_javascript(daemon, target, sessions, shots)
                check_delete(driver, daemon, sessions[1])
    finally:
        daemon.stop()
        target.kill()
        target.wait()
    # The token, in a network of its own where this host is "another host" to the daemon.
    namespace = ["unshare", "--net", "sh", "-c", 'ip link set lo up && ip addr add %s/32 dev lo && exec "$0" "$@"' % REMOTE]
    done = subprocess.run(namespace + [sys.executable, os.path.abspath(__file__), PYPROFD, SOURCE, output, "--token-part"],
                          timeout=150)
    check(done.returncode == 0, "the console with a token (another host): %s" % ("passed" if done.returncode == 0 else "failed"))
    shutil.rmtree(work, ignore_errors=True)
    return report()


def token_part():
    work = tempfile.mkdtemp(prefix="pyprofd-console-token-")
    shots = Shots(OUTPUT)
    shots.count = 20
    token_file = os.path.join(work, "console.token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write("listen: [\"%s:0\"]\naccess:\n  tokens:\n    - {name: console, file: %s, role: admin}\n" % (REMOTE, token_file))
    target = subprocess.Popen([PYTHON, TARGET], stdout=subprocess.PIPE)
    target.stdout.readline()
    daemon = Daemon(PYPROFD, ["--config", config, "--state-dir", os.path.join(work, "state")],
                    os.path.join(work, "daemon.log"))
    url = "http://%s:%d/" % (REMOTE, daemon.port)
    try:
        with chromium(window=(1300, 900)) as driver:
            driver.open(url)
            asked = driver.wait("return !document.getElementById('token-form').hidden && "
                                "document.getElementById('sign-in-reason').textContent;", 10)
            check(asked and "needs a token" in asked, "token: the console asks for one, saying why: %r" % asked)
            shots.take(driver, "token-asked")
            driver.type("#token", TOKEN)
            driver.click("#token-form button[type=submit]")
            listed = driver.wait("return document.querySelector(\"#processes tr[data-pid='%d']\") !== null;" % target.pid, 15)
            check(listed, "token: with it, the console lists the processes")
            sid = start_from_form(driver, target.pid, 200, 30, "with a token")
            drawn = wait_graph(driver, "#live-graph", lambda s: s["total"] > 0, 20)
            check(sid is not None and drawn is not None and drawn["titleAnchor"] == "middle",
                  "token: a session starts and its live graph, fetched with the token, shows: %s" % sid)
            shots.take(driver, "token-live")
            urls = driver.js("""
                var urls = [location.href].concat(performance.getEntriesByType('resource').map(function (e) { return e.name; }));
                document.querySelectorAll('iframe, a').forEach(function (e) { urls.push(e.src || e.href); });
                return urls;""")
            check(len(urls) > 5 and not any(TOKEN in u for u in urls),
                  "token: in no URL the page loaded or links (%d looked at)" % len(urls))
            check(driver.js("return document.cookie;") == "", "token: no cookie")
            check(driver.js("return sessionStorage.getItem('pyprofd-token');") == TOKEN, "token: kept for the tab")
            check(TOKEN not in daemon.log(), "token: not in the daemon's log")
            handle = driver.s("POST", "/window/new", {"type": "tab"})["handle"]
            driver.s("POST", "/window", {"handle": handle})
            driver.open(url)
            again = driver.wait("return !document.getElementById('token-form').hidden;", 10)
            check(again and driver.js("return sessionStorage.getItem('pyprofd-token');") is None,
                  "token: another tab does not have it, and asks again")
            if sid:
                request = urllib.request.Request(url + "sessions/%s/stop" % sid, method="POST",
                                                 headers={"Authorization": "Bearer " + TOKEN})
                urllib.request.urlopen(request).read()
    finally:
        daemon.stop()
        target.kill()
        target.wait()
        shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())
