"""One attempt of a webhook: a POST to the address that was checked, WEBHOOK_ATTEMPT_TIMEOUT
(10 s) at most from connecting to the last byte read, no redirect followed (http.client
follows none)."""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from events.webhooks.network import UnsafeURL, checked_address, target_of

MAX_RESPONSE_BODY = 1024


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    refused: bool = False  # the URL may not be called (private address): no retry
    retry_after: int | None = None
    response_body: str = ""
    duration_ms: int = 0


class Deadline:
    """An attempt's whole time. A socket timeout bounds each read, not their sum: a receiver
    sending a byte a second would hold the worker as long as it liked. When the time is up a
    timer shuts the attempt's socket down, whatever the attempt is waiting for (the TLS
    handshake, the headers, the body)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = self.finished = False
        self.sock = None
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc_info):
        self.timer.cancel()
        with self.lock:  # the attempt is over: a timer firing now changes nothing
            self.finished = True

    def remaining(self):
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("out of time")
        return left

    def watch(self, sock):
        """`sock` is the one to shut down when the time is up (TimeoutError if it is)."""
        with self.lock:
            if self.expired:
                raise TimeoutError("out of time")
            self.sock = sock
        return sock

    def expire(self):
        with self.lock:
            if self.finished:
                return
            self.expired = True
            if self.sock is not None:
                # The plain socket's shutdown, also under TLS: it wakes a blocked read at once
                # (a socket detached by the TLS wrap is already closed: nothing to do).
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` whatever `host` resolves to now; the Host header names `host`."""

    def __init__(self, host, port, address, deadline, **kwargs):
        super().__init__(host, port, timeout=deadline.seconds, **kwargs)
        self.address = address
        self.deadline = deadline

    def open_socket(self):
        connected = socket.create_connection((self.address, self.port), self.deadline.remaining())
        return self.deadline.watch(connected)

    def connect(self):
        self.sock = self.open_socket()


class PinnedHTTPSConnection(PinnedHTTPConnection):
    """As PinnedHTTPConnection, over TLS: the certificate checked against `host` (SNI too)."""

    def __init__(self, host, port, address, deadline, **kwargs):
        super().__init__(host, port, address, deadline, **kwargs)
        self.context = ssl.create_default_context()

    def connect(self):
        tls = self.context.wrap_socket(
            self.open_socket(), server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock = self.deadline.watch(tls)
        tls.do_handshake()


def post(url, body, headers):
    """Send `body` to `url`; the Outcome says what came back (or what went wrong)."""
    started = time.monotonic()
    outcome = Outcome()
    limit = settings.WEBHOOK_ATTEMPT_TIMEOUT
    with Deadline(limit) as deadline:
        send(url, body, headers, deadline, outcome)
    if deadline.expired:  # whatever arrived before, the answer was not whole in time
        outcome = Outcome(error=f"TimeoutError: no whole answer within {limit:g} s")
    outcome.duration_ms = round((time.monotonic() - started) * 1000)
    return outcome


def send(url, body, headers, deadline, outcome):
    try:
        scheme, host, port, path = target_of(url)
        address = checked_address(host, port)
        connection_class = PinnedHTTPSConnection if scheme == "https" else PinnedHTTPConnection
        connection = connection_class(host, port, address, deadline)
        try:
            connection.request(
                "POST",
                path,
                body=body.encode(),
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    "User-Agent": "Oshara-Webhooks/1",
                },
            )
            response = connection.getresponse()
            outcome.status_code = response.status
            outcome.retry_after = retry_after_seconds(response.getheader("Retry-After"))
            outcome.response_body = response.read(MAX_RESPONSE_BODY).decode("utf-8", "replace")
        finally:
            connection.close()
    except UnsafeURL as exc:
        outcome.error, outcome.refused = str(exc), True
    except (OSError, http.client.HTTPException) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:500]


def retry_after_seconds(value):
    """A Retry-After header in seconds (its date form is ignored: the schedule applies)."""
    if value and value.strip().isdigit():
        return int(value.strip())
    return None
