"""A real browser for tests: Debian's chromium, headless, driven over the DevTools protocol
through a pipe (--remote-debugging-pipe), so nothing but the standard library is needed and
no port is opened for it.
"""

import base64
import contextlib
import json
import os
import subprocess
import time

CHROMIUM = "/usr/bin/chromium"
# The slowest step is a page load on a busy CI machine; this only bounds a hung browser.
STEP_TIMEOUT = 60


class BrowserError(AssertionError):
    pass


class Browser:
    """One headless chromium with one page. Commands are sent to the page's session."""

    def __init__(self, profile_dir, width=1280, height=900):
        # Our ends: we write commands into `to_browser`, read replies from `from_browser`.
        browser_reads, to_browser = os.pipe()
        from_browser, browser_writes = os.pipe()

        def pipes_on_3_and_4():
            os.dup2(browser_reads, 3)
            os.dup2(browser_writes, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--window-size={width},{height}",
                f"--user-data-dir={profile_dir}",
                "--remote-debugging-pipe",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # The child's fds 3 and 4 are the pipe's ends (what --remote-debugging-pipe
            # reads and writes); pass_fds keeps them open past the child's fd clean-up.
            preexec_fn=pipes_on_3_and_4,
            pass_fds=(3, 4),
        )
        os.close(browser_reads)
        os.close(browser_writes)
        self.writer = os.fdopen(to_browser, "wb", buffering=0)
        self.reader = os.fdopen(from_browser, "rb", buffering=0)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    # -- the protocol ----------------------------------------------------------------------

    def _read_message(self):
        while b"\0" not in self.buffer:
            chunk = self.reader.read(65536)
            if not chunk:
                raise BrowserError("chromium closed its DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.writer.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def page(self, method, params=None):
        return self.send(method, params, session=self.session)

    # -- what a test does ------------------------------------------------------------------

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.page(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=STEP_TIMEOUT):
        """Wait until the expression is truthy in the page; its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None  # the page is between two documents
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for: {expression}")
            time.sleep(0.1)

    def goto(self, url):
        self.page("Page.navigate", {"url": url})
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def submit_and_wait(self, form_selector):
        """Submit a form the way a click on its button does; wait for the next page."""
        self.evaluate("window.__beforeSubmit = true")
        self.evaluate(f"document.querySelector({json.dumps(form_selector)}).requestSubmit()")
        self.wait_for("!window.__beforeSubmit && document.readyState === 'complete'")

    def screenshot(self, path, selector=None):
        """The viewport, or the element `selector` names; as PNG into `path`."""
        params = {"format": "png", "captureBeyondViewport": bool(selector)}
        if selector:
            box = self.evaluate(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return {x: r.x + scrollX, y: r.y + scrollY, "
                "width: r.width, height: r.height}; })()"
            )
            params["clip"] = {**box, "scale": 1}
        data = self.page("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self):
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.writer.close()
        self.reader.close()
