#!/usr/bin/env python3
"""The flame graph's interactivity in a real browser: headless Chromium, driven
through ChromeDriver's WebDriver protocol (standard library only).

It renders known folded stacks with `pyprofd render`, opens the SVG with
?s=heavy and reads back from the DOM which frames are highlighted and the
matched share; then it clicks a frame and checks the zoom (widths, hidden
frames, the URL); then it checks the Reset Zoom button and a nested search; a
differential graph's colours and hover text; that speedscope itself (its release
from npm, served on localhost) opens our speedscope file; and last, that no ?s= can
hang the page: a search is plain text unless written /like this/, and a regular
expression runs on the graph's own engine, in linear time within a budget, so a
catastrophic-backtracking expression on long names still leaves the page answering.

Usage: flame_graph_browser_test.py PYPROFD_BINARY
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver_support import browser_missing, chromium  # noqa: E402

FOLDED = """main (/srv/app.py:1);heavy (/srv/app.py:5);heavy_compute (/srv/app.py:20) 600
main (/srv/app.py:1);heavy (/srv/app.py:5) 150
main (/srv/app.py:1);light (/srv/app.py:9);heavy_helper (/srv/app.py:30) 50
main (/srv/app.py:1);light (/srv/app.py:9) 200
"""
# The same program before a change: heavy had 250 of 1000 samples (25%), now 750 (75%).
FOLDED_BEFORE = """main (/srv/app.py:1);heavy (/srv/app.py:5) 250
main (/srv/app.py:1);light (/srv/app.py:9) 750
"""
# Matches of "heavy": heavy (750 samples), heavy_compute (600, inside heavy: not counted again) and
# heavy_helper (50, elsewhere): 800 of 1000.

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)
    return condition


THREADED = """thread "MainThread" (100);main (/srv/app.py:1);heavy (/srv/app.py:5) 300
thread "worker-1" (101);run (/usr/lib/python3.11/threading.py:982);poll (/srv/app.py:40) 100
"""


def check_speedscope_opens(driver, pyprofd, work):
    """Our speedscope file in speedscope itself (its release, from the npm package the
    format test installs), served from localhost the way its #profileURL= wants."""
    import functools
    import http.server
    import threading
    release = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "readers", "node_modules", "speedscope",
                           "dist", "release")
    if not check(os.path.isdir(release), "speedscope's release is installed (scripts/install-test-readers)"):
        return
    site = os.path.join(work, "speedscope")
    shutil.copytree(release, site)
    folded = os.path.join(work, "threaded.folded")
    with open(folded, "w") as f:
        f.write(THREADED)
    subprocess.run([pyprofd, "render", "-f", "speedscope", "--rate", "100", "--title", "pyprofd browser profile",
                    folded, "-o", os.path.join(site, "profile.json")], check=True)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = "http://127.0.0.1:%d" % server.server_address[1]
        driver.open(base + "/index.html#profileURL=" + urllib.parse.quote(base + "/profile.json", safe=""))
        title = ""
        for _ in range(100):
            title = driver.js("return document.title")
            if title.endswith(" - speedscope"):
                break
            time.sleep(0.1)
        check(title == "pyprofd browser profile - speedscope", "speedscope opens our file: title %r" % title)
        text = driver.js("return document.body.innerText")
        check('thread "MainThread" (100)' in text and "1/2" in text,
              "speedscope shows the first thread's profile, one of two: %r" % text[:200])
    finally:
        server.shutdown()


def check_search_cannot_hang(pyprofd, work):
    """A link whose ?s= backtracks catastrophically in the browser's own regex engine
    ((a+)+$ on names of 40 a's and a '!', 2^40 steps there): the page answers a
    script within seconds, whether the term is read as text or as /expression/."""
    folded = os.path.join(work, "long_names.folded")
    with open(folded, "w") as f:
        for i in range(200):
            f.write("main;%s%d!;%s 1\n" % ("a" * 40, i, "a" * 40))
    svg = os.path.join(work, "long_names.svg")
    subprocess.run([pyprofd, "render", folded, "-o", svg], check=True)
    with chromium() as driver:
        driver.s("POST", "/timeouts", {"pageLoad": 15000, "script": 15000})
        for term, matched in (("(a+)+$", "Matched: 0.00%"), ("/(a+)+$/", "Matched: 100.00%"),
                              ("/^(a|aa)+!$/", "Matched: 0.00%")):
            started = time.monotonic()
            try:
                driver.open("file://" + svg + "?s=" + urllib.parse.quote(term))
                answer = driver.js("return document.getElementById('matched').textContent")
            except Exception as e:  # the page load or the script timed out: the page hangs
                answer = "no answer (%s)" % str(e)[:80]
            elapsed = time.monotonic() - started
            check(answer == matched and elapsed < 10,
                  "?s=%s does not hang the page: it answers %r in %.1f s" % (term, answer, elapsed))
            if elapsed >= 10:
                break  # the browser is stuck; the rest would be too


def main():
    pyprofd = sys.argv[1]
    if browser_missing():
        print("FAIL " + browser_missing())
        return 1
    work = tempfile.mkdtemp(prefix="pyprofd-browser-")
    folded = os.path.join(work, "profile.folded")
    svg = os.path.join(work, "profile.svg")
    with open(folded, "w") as f:
        f.write(FOLDED)
    subprocess.run([pyprofd, "render", folded, "-o", svg, "--title", "browser test"], check=True)
    before = os.path.join(work, "before.folded")
    diff_svg = os.path.join(work, "diff.svg")
    with open(before, "w") as f:
        f.write(FOLDED_BEFORE)
    subprocess.run([pyprofd, "render", "--diff", before, folded, "-o", diff_svg], check=True)

    try:
        with chromium() as driver:
            run_checks(driver, pyprofd, work, svg, diff_svg)
        # In a browser of its own: on a hang, the browser goes with it.
        check_search_cannot_hang(pyprofd, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failed" % len(failures))
    return 1 if failures else 0


def run_checks(driver, pyprofd, work, svg, diff_svg):
    """The checks, in one browser session."""

    # Search from the URL.
    driver.open("file://" + svg + "?s=heavy")
    matched = driver.js("return document.getElementById('matched').textContent")
    highlighted = driver.js(
        "return Array.from(document.querySelectorAll('#frames > g.match')).map(function (g) {"
        " return [g.querySelector('title').textContent.split('\\n')[0], g.querySelector('rect').getAttribute('fill')]; })")
    names = sorted(n for n, _ in highlighted)
    check(names == ["heavy (/srv/app.py:5)", "heavy_compute (/srv/app.py:20)", "heavy_helper (/srv/app.py:30)"],
          "?s=heavy highlights exactly heavy, heavy_compute and heavy_helper: %s" % names)
    check(all(fill == "rgb(230,0,230)" for _, fill in highlighted), "highlighted frames are magenta")
    check(matched == "Matched: 80.00%", "matched share counts nested matches once: %r" % matched)
    plain = driver.js("return document.querySelector('#frames > g:not(.match) rect').getAttribute('fill')")
    check(plain != "rgb(230,0,230)", "other frames keep their colour")

    # A click zooms into the frame.
    driver.open("file://" + svg)
    heavy_width_before = float(driver.js(
        "return Array.from(document.querySelectorAll('#frames > g')).filter(function (g) {"
        " return g.querySelector('title').textContent.startsWith('heavy (') })[0].querySelector('rect').getAttribute('width')"))
    driver.js("window.__target = Array.from(document.querySelectorAll('#frames > g')).filter(function (g) {"
              " return g.querySelector('title').textContent.startsWith('heavy (') })[0];"
              " window.__target.setAttribute('id', 'heavy-frame');")
    driver.click("#heavy-frame rect")
    state = driver.js(
        "var out = {};"
        "Array.from(document.querySelectorAll('#frames > g')).forEach(function (g) {"
        "  out[g.querySelector('title').textContent.split('\\n')[0]] = {"
        "    hidden: g.classList.contains('hide'), width: +g.querySelector('rect').getAttribute('width') }; });"
        "out.__url = window.location.search;"
        "out.__unzoom = document.getElementById('unzoom').classList.contains('hide');"
        "out.__chart = +document.documentElement.getAttribute('data-chart-width');"
        "return out;")
    chart = state["__chart"]
    check(abs(state["heavy (/srv/app.py:5)"]["width"] - chart) < 0.2,
          "the clicked frame fills the width (%.1f of %.1f, was %.1f)" % (
              state["heavy (/srv/app.py:5)"]["width"], chart, heavy_width_before))
    check(abs(state["heavy_compute (/srv/app.py:20)"]["width"] - chart * 600 / 750) < 0.2,
          "its children scale with it (heavy_compute is 600 of 750)")
    check(state["light (/srv/app.py:9)"]["hidden"], "frames beside it are hidden")
    check(not state["main (/srv/app.py:1)"]["hidden"], "its ancestors stay")
    check(not state["__unzoom"], "Reset Zoom is shown")
    check("z=2%2C0" in state["__url"] or "z=2,0" in state["__url"], "the zoom is in the URL: %r" % state["__url"])

    driver.click("#unzoom")
    after = driver.js(
        "return [document.querySelectorAll('#frames > g.hide').length,"
        " +Array.from(document.querySelectorAll('#frames > g')).filter(function (g) {"
        " return g.querySelector('title').textContent.startsWith('heavy (') })[0].querySelector('rect').getAttribute('width')]")
    check(after[0] == 0 and abs(after[1] - heavy_width_before) < 0.2, "Reset Zoom restores every frame")

    # A search is plain text; /.../ is a regular expression.
    def highlighted_names():
        return sorted(driver.js(
            "return Array.from(document.querySelectorAll('#frames > g.match')).map(function (g) {"
            " return g.querySelector('title').textContent.split('\\n')[0]; })"))
    driver.open("file://" + svg + "?s=" + urllib.parse.quote("heavy_(compute|helper)"))
    check(highlighted_names() == [], "?s= is plain text: heavy_(compute|helper) matches no frame")
    driver.open("file://" + svg + "?s=" + urllib.parse.quote("/heavy_(compute|helper)/"))
    check(highlighted_names() == ["heavy_compute (/srv/app.py:20)", "heavy_helper (/srv/app.py:30)"],
          "?s=/heavy_(compute|helper)/ is a regular expression: %s" % highlighted_names())
    driver.open("file://" + svg + "?s=" + urllib.parse.quote("/^HEAVY \\(/i"))
    check(highlighted_names() == ["heavy (/srv/app.py:5)"], "/.../i ignores case: %s" % highlighted_names())
    driver.open("file://" + svg + "?s=" + urllib.parse.quote("/(heavy)\\1/"))
    message = driver.js("return document.getElementById('matched').textContent")
    check(message == "Not a regular expression this search takes: backreferences are not supported",
          "an expression it cannot run in linear time is refused, saying why: %r" % message)

    # A zoomed link opens zoomed.
    driver.open("file://" + svg + "?z=2,0&s=compute")
    linked = driver.js("return [document.getElementById('matched').textContent,"
                       " document.querySelectorAll('#frames > g.hide').length > 0]")
    check(linked == ["Matched: 60.00%", True], "a link with ?z= and ?s= opens zoomed and searched: %s" % linked)

    # A differential graph: hovering tells the change, a search and its reset keep the colours.
    driver.open("file://" + diff_svg)
    driver.js("Array.from(document.querySelectorAll('#frames > g')).filter(function (g) {"
              " return g.querySelector('title').textContent.startsWith('heavy (') })[0].setAttribute('id', 'heavy-frame');")
    fill = driver.js("return document.querySelector('#heavy-frame rect').getAttribute('fill')")
    # +50 points of the largest change, heavy_compute's +60: 5/6 of full red (255,55,55).
    check(fill == "rgb(255,88,88)", "in the differential graph a frame that grew is red by its change: %s" % fill)
    driver.js("document.querySelector('#heavy-frame rect').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))")
    details = driver.js("return document.getElementById('details').textContent")
    check(details.endswith("; before 250 (25.00%): +50.00 points"), "hovering tells the change: %r" % details)
    driver.js("search('heavy'); resetSearch();")
    fill_after = driver.js("return document.querySelector('#heavy-frame rect').getAttribute('fill')")
    check(fill_after == fill, "a search and its reset give the change colour back: %s" % fill_after)

    check_speedscope_opens(driver, pyprofd, work)


if __name__ == "__main__":
    sys.exit(main())
