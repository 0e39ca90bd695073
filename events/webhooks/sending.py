"""One attempt of a webhook: a POST to the address that was checked, 10 s at most, no
redirect followed (http.client follows none)."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from events.webhooks.network import UnsafeURL, checked_address, target_of

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BODY = 1024


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    refused: bool = False  # the URL may not be called (private address): no retry
    retry_after: int | None = None
    response_body: str = ""
    duration_ms: int = 0


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to `address` whatever `host` resolves to now; the Host header names `host`."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As PinnedHTTPConnection, the certificate checked against `host` (SNI too)."""

    def __init__(self, host, port, address, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, body, headers):
    """Send `body` to `url`; the Outcome says what came back (or what went wrong)."""
    started = time.monotonic()
    outcome = Outcome()
    try:
        scheme, host, port, path = target_of(url)
        address = checked_address(host, port)
        connection_class = PinnedHTTPSConnection if scheme == "https" else PinnedHTTPConnection
        connection = connection_class(host, port, address, timeout=TIMEOUT_SECONDS)
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
    outcome.duration_ms = round((time.monotonic() - started) * 1000)
    return outcome


def retry_after_seconds(value):
    """A Retry-After header in seconds (its date form is ignored: the schedule applies)."""
    if value and value.strip().isdigit():
        return int(value.strip())
    return None
