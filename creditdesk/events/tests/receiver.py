"""A webhook receiver on the loopback interface for tests: it records what it gets and answers from a
script of responses (a status code, or a delay in seconds before answering 200)."""

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Each request takes the next entry: an int is the status answered, a float is seconds to stall
    # before answering 200. When the script runs out, every request gets `then`.
    script: deque = field(default_factory=deque)
    then: int = 200
    # Instead of the script: called with the request's number (from 0), returns the step.
    policy: Callable[[int], int | float] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self) -> tuple[float, int]:
        with self.lock:
            if self.policy is not None:
                step = self.policy(len(self.received))
            else:
                step = self.script.popleft() if self.script else self.then
        if isinstance(step, float):
            return step, 200
        return 0.0, int(step)


def start_receiver(port: int = 0) -> tuple[Receiver, ThreadingHTTPServer]:
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            delay, status = state.respond()
            with state.lock:
                state.received.append(Received(headers=dict(self.headers.items()), body=body))
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
