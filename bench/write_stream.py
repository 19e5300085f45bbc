"""The write stream of the mixed_writes row: PATCHes at a steady rate while wrk
reads, and the response cache's hit and miss counters around it."""

import http.client
import json
import random
import threading
import time
import urllib.request

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


def create_stream(
    token: str, pairs: list[str], stop: threading.Event, done: dict[str, int], n: int
) -> None:
    """POST a new `active` signal WRITES_PER_SECOND / WRITERS times a second, every
    other one in pairs[0] and the rest over the other pairs, each at a timestamp
    no other writer uses (hours after 2100, by writer)."""
    connection = http.client.HTTPConnection(HOST, APP_PORT, timeout=30)
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
    }
    interval, due, count = WRITERS / WRITES_PER_SECOND, time.monotonic(), 0
    while not stop.is_set():
        pair = pairs[0] if count % 2 == 0 else pairs[1 + count // 2 % (len(pairs) - 1)]
        hour = count * WRITERS + n
        body = json.dumps(
            {
                "pair": pair,
                "timeframe": "1h",
                "direction": "buy",
                "entry_price": "100.0",
                "stop_loss": "99.0",
                "take_profit": "102.0",
                "confidence": 60,
                "timestamp": _hour_stamp(hour),
            }
        )
        count += 1
        try:
            connection.request("POST", "/api/signals/", body, headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 201
            done["writes" if ok else "write_errors"] += 1
            if ok:
                done["evicting"] += 1  # each evicts one read URL: its pair's active
        except OSError:
            done["write_errors"] += 1
            connection.close()
        due += interval
        stop.wait(max(0.0, due - time.monotonic()))
    connection.close()


def _hour_stamp(hour: int) -> str:
    from datetime import UTC, datetime, timedelta

    at = datetime(2100, 1, 1, tzinfo=UTC) + timedelta(hours=hour)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_stream(
    token: str, lo: int, hi: int, stop: threading.Event, done: dict[str, int], n: int
) -> None:
    """PATCH the confidence of a random signal WRITES_PER_SECOND / WRITERS times
    a second (the ids span the 30 pairs), on one kept-alive connection; several
    of these keep the rate while each write waits for its answer."""
    connection = http.client.HTTPConnection(HOST, APP_PORT, timeout=30)
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
    }
    rng, interval = random.Random(n), WRITERS / WRITES_PER_SECOND
    due = time.monotonic()
    while not stop.is_set():
        body = json.dumps({"confidence": rng.randint(40, 95)})
        path = f"/api/signals/{rng.randint(lo, hi)}/"
        try:
            connection.request("PATCH", path, body, headers)
            response = connection.getresponse()
            response.read()
            done["writes" if response.status == 200 else "write_errors"] += 1
        except OSError:
            done["write_errors"] += 1
            connection.close()
        due += interval
        stop.wait(max(0.0, due - time.monotonic()))
    connection.close()
