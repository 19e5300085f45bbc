"""A webhook receiver on loopback for the tests: answers from a script of replies."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = int | str | tuple[int, dict[str, str]]


class Overlap:
    """Requests in progress at once, across the receivers that share it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


class Receiver:
    def __init__(self, replies: list[Reply]) -> None:
        """`replies`: per request (the last repeats) a status code, a status and
        headers, or "hang"."""
        self.replies = replies
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.url = ""
        self.overlap = Overlap()  # this receiver's own requests

    def reply(self) -> Reply:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]

    def ids(self) -> list[int]:
        return [int(headers["webhook-id"]) for headers, _ in self.requests]


@contextmanager
def receiver(
    replies: list[Reply],
    *,
    hang_seconds: float = 5,
    delay: float = 0,
    shared: Overlap | None = None,
) -> Iterator[Receiver]:
    """Serve on loopback; each answer after `delay` seconds ("hang": after
    `hang_seconds`, then 200). A request is recorded as soon as it arrives."""
    state = Receiver(replies)
    gauges = [state.overlap] + ([shared] if shared else [])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a receiver usually is

        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            for gauge in gauges:
                gauge.enter()
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(
                ({k.lower(): v for k, v in self.headers.items()}, body)
            )
            reply, headers = state.reply(), {}
            time.sleep(delay)
            if reply == "hang":
                time.sleep(hang_seconds)
                reply = 200
            if isinstance(reply, tuple):
                reply, headers = reply
            for gauge in gauges:
                gauge.leave()
            self.send_response(int(reply))
            for name, value in {**headers, "Content-Length": "0"}.items():
                self.send_header(name, value)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
