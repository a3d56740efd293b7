"""What the browser tests share: a headless Chromium driven through a ChromeDriver
of our own over the WebDriver protocol (W3C), with the standard library only."""
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_missing():
    """Why the browser tests cannot run here, or None."""
    if not shutil.which("chromedriver") or not shutil.which("chromium"):
        return ("chromium and chromedriver are needed: install the packages chromium and chromium-driver "
                "(listed in scripts/deps-test.txt; `make test` installs them)")
    return None


class WebDriver:
    def __init__(self, port, user_data_dir, extra_args=(), prefs=None, window=(1300, 800)):
        self.base = "http://127.0.0.1:%d" % port
        options = {"binary": shutil.which("chromium") or "/usr/bin/chromium",
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=%d,%d" % window,
                            "--allow-file-access-from-files", "--user-data-dir=" + user_data_dir] + list(extra_args)}
        if prefs:
            options["prefs"] = prefs
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["value"]

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.session, path), body)

    def open(self, url):
        self.s("POST", "/url", {"url": url})

    def url(self):
        return self.s("GET", "/url")

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def element(self, css):
        element = self.s("POST", "/element", {"using": "css selector", "value": css})
        return list(element.values())[0]

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.element(css), {})

    def type(self, css, text, clear=True):
        """Types text into the element as a user would (keys, not a value set by script)."""
        element = self.element(css)
        if clear:
            self.s("POST", "/element/%s/clear" % element, {})
        self.s("POST", "/element/%s/value" % element, {"text": text})

    def wait(self, script, timeout=20, *args):
        """The script's first truthy value within timeout seconds, or its last."""
        deadline = time.time() + timeout
        value = None
        while time.time() < deadline:
            value = self.js(script, *args)
            if value:
                return value
            time.sleep(0.2)
        return value

    def window_size(self, width, height):
        self.s("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))
        return path

    def quit(self):
        try:
            self.s("DELETE", "")
        except Exception:
            pass


@contextlib.contextmanager
def chromium(extra_args=(), prefs=None, window=(1300, 800)):
    """A headless Chromium session through a ChromeDriver of our own, ended after.
    Both keep everything they write (profile, caches, singleton sockets, crash
    reports) in a temporary directory of their own, removed after: left to
    themselves they fill /tmp with org.chromium.Chromium.* and the home directory
    with .config/chromium and .cache. prefs: Chromium's preferences (to turn
    JavaScript off, say)."""
    port = free_port()
    home = tempfile.mkdtemp(prefix="pyprofd-chromium-")
    env = dict(os.environ, HOME=home, TMPDIR=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    chromedriver = subprocess.Popen([shutil.which("chromedriver"), "--port=%d" % port], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env)
    driver = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/status" % port, timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        driver = WebDriver(port, os.path.join(home, "profile"), extra_args, prefs, window)
        yield driver
    finally:
        if driver:
            driver.quit()
        chromedriver.terminate()
        chromedriver.wait()
        shutil.rmtree(home, ignore_errors=True)
