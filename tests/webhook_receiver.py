"""Real HTTP receivers for webhook tests, each a server thread on 127.0.0.1 (a port the system
picks: no range to share with other test runs):

- start_receiver(): answers with the statuses it is given, in turn, and keeps every request
  it got; it can hold the first requests unanswered until released (a slow receiver);
- start_trickler(): answers a byte at a time, never finishing within a short attempt limit.
"""

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOLD_AT_MOST = 60  # seconds a held request waits for its release (a bound, never reached)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    answers: list = field(default_factory=list)  # (status, headers) in turn; then 200
    received: list = field(default_factory=list)
    hold: int = 0  # how many of the next requests are held, unanswered, until `released`
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def ids(self):
        return [received.headers["webhook-id"] for received in list(self.received)]

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def start_receiver():
    holder = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver = holder["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers), body))
                held = receiver.hold > 0
                receiver.hold -= held
                status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
            if held:
                receiver.released.wait(HOLD_AT_MOST)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender gave up (or died) while it was held
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["receiver"] = receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@dataclass
class Trickler:
    listener: socket.socket
    requests: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def stop(self):
        self.stopped.set()
        self.listener.close()


def start_trickler(head_at_once, every=0.2):
    """Answers each request a byte every `every` seconds: from its status line, or (with
    `head_at_once`) after a whole head announcing a 200 with a body of 1,000 bytes. Each
    byte comes well within any per-read timeout; the answer would take minutes."""
    listener = socket.create_server(("127.0.0.1", 0))
    trickler = Trickler(listener)
    body = b"x" * 1000
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)

    def answer(connection):
        with connection:
            connection.recv(65536)  # the request (small: one read is enough here)
            trickler.requests += 1
            answer_bytes = head + body
            if head_at_once:
                connection.sendall(head)
                answer_bytes = body
            for index in range(len(answer_bytes)):
                if trickler.stopped.wait(every):
                    return
                try:
                    connection.sendall(answer_bytes[index : index + 1])
                except OSError:  # the sender hung up: the attempt was cut
                    return

    def serve():
        while not trickler.stopped.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return trickler


def wait_for(condition, seconds=30):
    """Poll `condition` until it holds (a bound on waiting, not a timed assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
