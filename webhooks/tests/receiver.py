"""A webhook receiver on loopback for the tests: answers from a script of replies."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, replies: list[int | str]) -> None:
        """`replies`: a status code per request (the last repeats), or "hang"."""
        self.replies = replies
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    def reply(self) -> int | str:
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        return self.replies[index]


@contextmanager
def receiver(
    replies: list[int | str], *, hang_seconds: float = 5
) -> Iterator[Receiver]:
    state = Receiver(replies)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(
                ({k.lower(): v for k, v in self.headers.items()}, body)
            )
            reply = state.reply()
            if reply == "hang":
                time.sleep(hang_seconds)
                reply = 200
            self.send_response(int(reply))
            self.send_header("Content-Length", "0")
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
