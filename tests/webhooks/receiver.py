"""A real HTTP receiver on loopback, as a storefront runs one: records every request it gets and
answers from a script (status codes in turn, then 200), optionally slowly; optionally it holds
one request open (hold_at) until the test lets it go, so the test knows a send is under way."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def envelope(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)  # answers in turn; 200 once it runs out
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0  # the most requests it was answering at the same moment
    arrivals: int = 0
    # The request with this number (1 for the first) is recorded as soon as its body is in, then
    # held unanswered until release is set: held says it has come (held_request is it).
    hold_at: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held_request: "Received | None" = None

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.envelope for r in self.requests]

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.envelopes]


def serve(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the sender expects

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request (SIGKILL): nothing was delivered
                self.close_connection = True
                return
            with receiver.lock:
                receiver.in_flight += 1
                receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                receiver.arrivals += 1
                hold = receiver.arrivals == receiver.hold_at
                if hold:
                    receiver.held_request = Received(dict(self.headers.items()), body, time.time())
                    receiver.requests.append(receiver.held_request)
            if hold:
                receiver.held.set()
                receiver.release.wait(timeout=120)  # a bound, so a failed test cannot hang the server
                with receiver.lock:
                    receiver.in_flight -= 1
                self.close_connection = True
                with contextlib.suppress(OSError):  # the sender may be gone (killed while we held it)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                return
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer()
            with receiver.lock:
                receiver.in_flight -= 1
                receiver.requests.append(Received(dict(self.headers.items()), body, time.time()))
            payload = b'{"ok": true}' if status < 300 else b'{"error": "receiver says no"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cx"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
