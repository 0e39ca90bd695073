"""`make run` is the development server: it holds 50 simultaneous clients without resetting
any, and serves static files with DEBUG on. Started exactly as `make run` starts it."""

import errno
import http.client
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.helpers import database_url, local_port

ROOT = Path(__file__).resolve().parent.parent
PORT = local_port(1)
CLIENTS = 50
# The virtualenv running the tests: `make run` uses it as it is (never reinstalls into it).
VENV = Path(sys.executable).parent.parent


@pytest.fixture
def make_run(tmp_path):
    """`make run` on PORT, against the test database; yields its process group's id."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DATABASE_URL": database_url(connection.settings_dict),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
    }
    server = subprocess.Popen(
        # -o: the venv counts as installed, so make only migrates and serves.
        ["make", "run", f"PORT={PORT}", f"VENV={VENV}", "-o", f"{VENV}/.installed"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a process group of its own: make, the server, its workers
    )
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, "make run exited"
        try:
            if get("/healthz")[0] == 200:
                break
        except OSError:
            assert time.monotonic() < deadline, "make run did not start serving"
            time.sleep(0.2)
    yield server.pid
    os.killpg(server.pid, signal.SIGCONT)
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def get(path, timeout=30):
    client = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    try:
        client.request("GET", path)
        response = client.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        client.close()


def established(sockets, seconds):
    """How many of the connecting sockets the kernel completed, waiting up to `seconds`."""
    pending, deadline = set(sockets), time.monotonic() + seconds
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(pending), [], 0.1)
        pending -= {s for s in writable if not s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)}
    return len(sockets) - len(pending)


REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def answer(connection):
    connection.setblocking(True)
    connection.settimeout(60)
    try:
        connection.sendall(REQUEST)
        response = b""
        while chunk := connection.recv(65536):
            response += chunk
        return response.split(b"\r\n", 1)[0].decode()
    except OSError as error:  # ConnectionResetError, BrokenPipeError...
        return repr(error)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_make_run_holds_50_simultaneous_clients(make_run):
    """50 clients connect at the same instant while the server is too busy to accept (here:
    stopped). The kernel must hold every one in the listen backlog until the server gets to
    it: runserver's backlog of 10 dropped the rest, which then waited seconds, and on a loaded
    machine were reset. Then each one is answered."""
    os.killpg(make_run, signal.SIGSTOP)
    sockets = []
    for _ in range(CLIENTS):
        client = socket.socket()
        client.setblocking(False)
        assert client.connect_ex(("127.0.0.1", PORT)) in (0, errno.EINPROGRESS)
        sockets.append(client)
    held = established(sockets, seconds=2)  # the backlog answers at once; SYN retries take 1 s
    os.killpg(make_run, signal.SIGCONT)

    assert held == CLIENTS
    assert [answer(client) for client in sockets] == ["HTTP/1.1 200 OK"] * CLIENTS


@pytest.mark.django_db(transaction=True)
def test_make_run_serves_static_files_and_debug_is_on(make_run):
    status, content_type, body = get("/static/admin/css/base.css")
    assert status == 200 and content_type.startswith("text/css") and body
    status, _, page = get("/no-such-page")
    assert status == 404 and b"DEBUG = True" in page  # Django's debug page: DEBUG is on
