"""The write stream of the mixed_writes row: PATCHes at a steady rate while wrk
reads, and the response cache's hit and miss counters around it."""

import http.client
import json
import random
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.endpoints import WRITES_PER_SECOND
from bench.servers import APP_PORT, HOST

WRITERS = 5  # connections the write stream spreads its writes over


def cache_counters(token: str) -> dict[str, int]:
    """The response cache's hits and misses so far, summed over the workers."""
    request = urllib.request.Request(
        f"http://{HOST}:{APP_PORT}/api/metrics",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["cache"]


def _stream(
    token: str,
    stop: threading.Event,
    done: dict[str, int],
    request: Callable[[int], tuple[str, str, str, int]],
) -> None:
    """Send request(count) -> (method, path, body, expected status)
    WRITES_PER_SECOND / WRITERS times a second on one kept-alive connection;
    several of these keep the rate while each write waits for its answer."""
    connection = http.client.HTTPConnection(HOST, APP_PORT, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    interval, due, count = WRITERS / WRITES_PER_SECOND, time.monotonic(), 0
    while not stop.is_set():
        method, path, body, expected = request(count)
        count += 1
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            response.read()
            done["writes" if response.status == expected else "write_errors"] += 1
        except OSError:
            done["write_errors"] += 1
            connection.close()
        due += interval
        stop.wait(max(0.0, due - time.monotonic()))
    connection.close()


def create_stream(
    token: str, pairs: list[str], stop: threading.Event, done: dict[str, int], n: int
) -> None:
    """POST a new `active` signal, every other one in pairs[0] and the rest over
    the other pairs, each at a timestamp no other writer uses (hours after 2100,
    by writer). Each evicts one read URL: its pair's `status=active` list."""

    def request(count: int) -> tuple[str, str, str, int]:
        pair = pairs[0] if count % 2 == 0 else pairs[1 + count // 2 % (len(pairs) - 1)]
        at = datetime(2100, 1, 1, tzinfo=UTC) + timedelta(hours=count * WRITERS + n)
        body = {
            "pair": pair, "timeframe": "1h", "direction": "buy",
            "entry_price": "100.0", "stop_loss": "99.0", "take_profit": "102.0",
            "confidence": 60, "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }  # fmt: skip
        return "POST", "/api/signals/", json.dumps(body), 201

    _stream(token, stop, done, request)


def write_stream(
    token: str, lo: int, hi: int, stop: threading.Event, done: dict[str, int], n: int
) -> None:
    """PATCH the confidence of a random signal (the ids span the 30 pairs)."""
    rng = random.Random(n)

    def request(_: int) -> tuple[str, str, str, int]:
        body = json.dumps({"confidence": rng.randint(40, 95)})
        return "PATCH", f"/api/signals/{rng.randint(lo, hi)}/", body, 200

    _stream(token, stop, done, request)
