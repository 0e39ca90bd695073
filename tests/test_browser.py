"""What a real browser sees: Debian's chromium, headless, loads a page from one local origin
that fetches the widget appearance from the API on another.

The server-side CORS headers are tested in test_appearance_endpoint.py; only a browser shows
that they add up to what it enforces (it blocks the read, not our code). .ci/run installs
chromium; where it is absent the test is skipped and says why.
"""

import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.signals import request_started
from pytest_django.live_server_helper import LiveServer

from calls.models import CallSession
from characters.models import Character

CHROMIUM = "/usr/bin/chromium"
# Inside this worktree's port range (the lead's guide gives each branch its own).
API_PORT, PAGE_PORT = 18802, 18801
SLUG = "support-bot"

pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"no browser at {CHROMIUM}: .ci/run installs Debian's chromium (apt-get install "
        "chromium); run it there, or install it, to see what a browser sees",
    ),
    pytest.mark.django_db(transaction=True),
]

# Each probe fetches the appearance and reports what the page could read, or the error the
# browser raised instead of handing it the response.
PAGE = """<!doctype html>
<html><body><pre id="result">pending</pre><script>
const APPEARANCE = "%(url)s";
const SESSION_START = "%(session_url)s";
async function probe(init, url = APPEARANCE) {
  try {
    const response = await fetch(url, init);
    const body = await response.json();
    return {status: response.status, name: body.name || null,
            primary_color: body.theme ? body.theme.primary_color : null,
            session: typeof body.session_id === "string"};
  } catch (error) {
    return {blocked: error.name};
  }
}
(async () => {
  // First, so no cached preflight answers for it: a JSON body is not a "simple" request.
  // The widget starting a call: a JSON POST, so the browser sends a CORS preflight first.
  const json_post = await probe({method: "POST", headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify({agent: "%(slug)s"})}, SESSION_START);
  const result = {
    json_post,
    plain: await probe(),
    // A JSON content type makes the browser send a CORS preflight first.
    preflighted: await probe({headers: {"Content-Type": "application/json"}}),
  };
  document.getElementById("result").textContent = JSON.stringify(result);
})();
</script></body></html>
"""


class PageServer:
    """The embedding site: serves PAGE on 127.0.0.1:PAGE_PORT (reachable as localhost too)."""

    def __init__(self, api_url):
        urls = {
            "url": f"{api_url}/api/agents/{SLUG}/appearance/",
            "session_url": f"{api_url}/api/agents/agent-session/",
            "slug": SLUG,
        }
        page = (PAGE % urls).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", PAGE_PORT), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def load(url, tmp_path):
    """The page's result after its scripts ran, as chromium renders it."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        # Virtual time waits for the page's pending fetches before the DOM is dumped.
        "--virtual-time-budget=1000",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    match = re.search(r'<pre id="result">(.*?)</pre>', done.stdout, re.S)
    assert match, f"no result in chromium's output: {done.stdout[-500:]} {done.stderr[-1500:]}"
    text = match.group(1).replace("&quot;", '"').replace("&amp;", "&")
    assert text != "pending", "the page's fetches did not finish"
    return json.loads(text)


@pytest.fixture
def api_server(settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    server = LiveServer(f"localhost:{API_PORT}")
    yield server.url
    server.stop()


@pytest.fixture
def requests_seen():
    """(method, the preflight's requested method or None) of every request the API served."""
    seen = []

    def record(sender, environ, **kwargs):
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        seen.append((environ["REQUEST_METHOD"], requested))

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


def test_chromium_enforces_the_widget_cors_contract(
    api_server, requests_seen, user, tmp_path, calls_settings
):
    assert shutil.which(CHROMIUM)
    allowed = f"http://127.0.0.1:{PAGE_PORT}"
    Character.objects.create(
        owner=user,
        slug=SLUG,
        name="Support Bot",
        allowed_origins=[allowed],
        widget_appearance={"name": "Acme Support", "theme": {"primary_color": "#FF6B35"}},
    )
    page = PageServer(api_server)
    try:
        seen_from_allowed = load(f"{allowed}/", tmp_path)
        requests_from_allowed = list(requests_seen)
        # Same page, another origin: localhost is not 127.0.0.1 to a browser.
        seen_from_other = load(f"http://localhost:{PAGE_PORT}/", tmp_path)
    finally:
        page.stop()

    read = {"status": 200, "name": "Acme Support", "primary_color": "#FF6B35", "session": False}
    assert seen_from_allowed["plain"] == read
    assert seen_from_allowed["preflighted"] == read
    # The JSON POST's preflight succeeded (only then does a browser send the POST itself), and
    # the page read the started session.
    assert requests_from_allowed[:2] == [("OPTIONS", "POST"), ("POST", None)]
    started = {"status": 200, "name": None, "primary_color": None, "session": True}
    assert seen_from_allowed["json_post"] == started

    # The API answered 403 without a CORS grant: the browser hands the page nothing. Session
    # start's preflight cannot know the character (the slug is in the body), so the browser
    # sends the POST; the POST itself is refused and starts no call.
    assert seen_from_other == {
        "json_post": {"blocked": "TypeError"},
        "plain": {"blocked": "TypeError"},
        "preflighted": {"blocked": "TypeError"},
    }
    assert CallSession.objects.count() == 1  # the allowed page's call only
    # The appearance's preflight is refused for that origin: its GET is never sent.
    from_other = requests_seen[len(requests_from_allowed) :]
    assert from_other[-1] == ("OPTIONS", "GET")
    assert from_other.count(("GET", None)) == 1  # the plain GET, not the preflighted one
