"""Live channels against real servers: two uvicorn (ASGI) processes and a gunicorn
(WSGI) process sharing one database and Redis, on loopback, like
tests/test_two_workers.py. Writes go through the WSGI server's API.

The database is the suite's: SQLite in the SQLite half; in the PostgreSQL half a
database of their own on the test server, where the WSGI server has two worker
processes and the racing tests write from several threads at once."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from conftest import required_redis_url
from tests.servers import free_port, manage

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.redis
WAIT = 10  # seconds: a bound on each wait, never an expected duration
MAX_PENDING, MAX_PER_IP = 50, 4


def wait_healthy(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{url} exited"
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    redis_url = required_redis_url()  # module-scoped: not the redis_url fixture
    base = tmp_path_factory.mktemp("live")
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "alphaforge.settings",
        "DEBUG": "false",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(base),
        "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/5",
        "NUM_PROXIES": "1",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "RATE_LIMIT_USER_PER_MINUTE": "100000",
        "WS_MAX_PENDING": str(MAX_PENDING),
        "WS_MAX_CONNECTIONS_PER_IP": str(MAX_PER_IP),
        "WS_PING_SECONDS": "1",
        "SSE_HEARTBEAT_SECONDS": "1",
    }
    database = _own_database()
    if database is not None:
        env["DATABASE_URL"] = database[0]
    manage(env, "migrate", "--noinput", "-v0")
    token = manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "from rest_framework.authtoken.models import Token;"
        "s=User.objects.create_user('staff','','pw',is_staff=True, is_superuser=True);"
        "print(Token.objects.create(user=s).key)",
    ).splitlines()[-1]
    wsgi_workers = "2" if database is not None else "1"  # SQLite: one writer process
    commands = [
        [
            "gunicorn",
            "-c",
            str(base / "none.py"),
            "-w",
            wsgi_workers,
            "alphaforge.wsgi",
        ],
        ["uvicorn", "--lifespan", "on", "alphaforge.asgi:application"],
        ["uvicorn", "--lifespan", "on", "alphaforge.asgi:application"],
    ]
    (base / "none.py").write_text("")
    procs, urls = [], []
    for command in commands:
        port = free_port()
        bind = (
            ["-b", f"127.0.0.1:{port}"]
            if command[0] == "gunicorn"
            else ["--host", "127.0.0.1", "--port", str(port)]
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", *command, *bind],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(base / f"server{len(procs)}.log").open("wb"),
            )
        )
        urls.append(f"127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            wait_healthy("http://" + url, proc)
        yield {
            "wsgi": "http://" + urls[0],
            "asgi": urls[1:],
            "headers": {"Authorization": f"Token {token}"},
            "env": env,
            "writers": 4 if database is not None else 1,
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if database is not None:
            _drop_database(*database)
        # Nothing failed on the servers' side (a traceback in their logs).
        for log in sorted(base.glob("server*.log")):
            assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


def _own_database() -> tuple[str, str, str] | None:
    """On the PostgreSQL half: a fresh database for the servers (url, name, the
    server's url); None on SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    import psycopg

    name = f"alphaforge_live_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, name, url


def _drop_database(_: str, name: str, server_url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_hours = iter(range(10**6))


def payload(pair: str = "EUR/USD", reasoning: str = "") -> dict:
    hour = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=next(_hours))
    return {
        "pair": pair,
        "timeframe": "1h",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.095,
        "take_profit": 1.11,
        "confidence": 70,
        "timestamp": hour.isoformat(),
        "reasoning": reasoning,
    }


def create(servers: dict, *items: dict) -> list[int]:
    response = httpx.post(
        servers["wsgi"] + "/api/signals/bulk/",
        json=list(items) or [payload()],
        headers=servers["headers"],
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()["ids"]


def log_ids(servers: dict, after: int = 0) -> list[int]:
    ids = []
    while True:
        body = httpx.get(
            servers["wsgi"] + "/api/events/",
            params={"after": after, "limit": 1000},
            headers=servers["headers"],
        ).json()
        if not body["results"]:
            return ids
        ids += [event["id"] for event in body["results"]]
        after = body["after"]


def ws(servers: dict, n: int = 0, client: str = "", **kwargs) -> ClientConnection:  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": client or f"10.0.0.{uuid.uuid4().int % 250}"}
    return connect(
        f"ws://{servers['asgi'][n]}/ws/events/",
        additional_headers=headers,
        open_timeout=WAIT,
        **kwargs,
    )


def receive(sock: ClientConnection) -> dict:
    """The next message that is not a ping, within WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        message = json.loads(sock.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] != "ping":
            return message


def subscribe(sock: ClientConnection, **message) -> int:  # type: ignore[no-untyped-def]
    sock.send(json.dumps({"action": "subscribe", **message}))
    answer = receive(sock)
    assert answer["type"] == "subscribed", answer
    return answer["after"]


def test_a_write_through_the_wsgi_server_reaches_clients_on_both_asgi_processes(
    servers,
):
    with ws(servers, 0) as first, ws(servers, 1) as second:
        subscribe(first)
        subscribe(second)
        (signal_id,) = create(servers)
        for sock in (first, second):
            event = receive(sock)
            assert event["type"] == "signal.created"
            assert event["data"]["id"] == signal_id
            assert set(event) == {"id", "type", "occurred_at", "data"}
        detail = httpx.get(f"{servers['wsgi']}/api/signals/{signal_id}/").json()
        assert event["data"] == detail


def test_replay_then_live_has_no_gap_and_no_duplicate_while_writes_race(servers):
    before = log_ids(servers)
    start = before[-1] if before else 0
    create(servers, *(payload() for _ in range(30)))
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            create(servers, payload())

    writers = [threading.Thread(target=write) for _ in range(servers["writers"])]
    for writer in writers:
        writer.start()
    try:
        with ws(servers, 1) as sock:
            assert subscribe(sock, after=start) == start
            got = []
            while len(got) < 60:
                got.append(receive(sock)["id"])
            stop.set()
            for writer in writers:
                writer.join()
            expected = log_ids(servers, start)
            while len(got) < len(expected):
                got.append(receive(sock)["id"])
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert got == expected  # every id once, increasing, across the switch


def test_a_new_subscribe_without_after_goes_live_from_now(servers):
    with ws(servers, 0) as sock, ws(servers, 0) as watcher:
        subscribe(sock, pairs=["GBP/USD"])
        subscribe(watcher)
        (gbp,) = create(servers, payload("GBP/USD"))
        assert receive(sock)["data"]["id"] == gbp
        (stored_eur,) = create(servers, payload("EUR/USD"))
        # The process's tailer is past the EUR event once another reader got it.
        assert receive(watcher)["data"]["id"] == gbp
        assert receive(watcher)["data"]["id"] == stored_eur
        subscribe(sock, pairs=["EUR/USD"])
        (live_eur,) = create(servers, payload("EUR/USD"))
        # Not the stored EUR event after the last one sent, which the new filter
        # would have matched: only what commits after the subscribe.
        assert receive(sock)["data"]["id"] == live_eur


def receive_frame(sock: ClientConnection) -> dict | list:
    """The next message that is not a ping or a subscribe answer: one event or a
    batch (a list), as sent."""
    while True:
        message = json.loads(sock.recv(timeout=WAIT))
        if isinstance(message, list) or message["type"] not in ("ping", "subscribed"):
            return message


def test_batch_subscribers_get_arrays_of_full_events_and_others_single_events(
    servers,
):
    start = (log_ids(servers) or [0])[-1]
    create(servers, *(payload() for _ in range(30)))  # stored: replayed
    with ws(servers, 1) as batched, ws(servers, 1) as plain:
        subscribe(batched, after=start, batch=True)
        subscribe(plain, after=start, batch=False)
        create(servers, *(payload() for _ in range(30)))  # live: one commit
        expected = log_ids(servers, start)
        assert len(expected) >= 60
        got: dict[str, list[int]] = {"batched": [], "plain": []}
        arrays = 0
        for name, sock in (("batched", batched), ("plain", plain)):
            while len(got[name]) < len(expected):
                frame = receive_frame(sock)
                if isinstance(frame, list):
                    assert name == "batched" and len(frame) > 1
                    arrays += 1
                    events = frame
                else:
                    events = [frame]
                for event in events:
                    assert set(event) == {"id", "type", "occurred_at", "data"}
                    assert event["type"] == "signal.created"
                    got[name].append(event["id"])
        assert arrays >= 1
    # Nothing lost, nothing twice, in id order, batched or not.
    assert got["batched"] == got["plain"] == expected


def test_filters_and_a_new_subscribe_replaces_them(servers):
    with ws(servers, 0) as sock:
        subscribe(sock, pairs=["GBP/USD"], types=["signal.created"])
        create(servers, payload("EUR/USD"), payload("GBP/USD"))
        event = receive(sock)
        assert event["data"]["pair"] == "GBP/USD"
        subscribe(sock, pairs=["EUR/USD"], min_confidence=60)
        (eur,) = create(servers, payload("EUR/USD"))
        assert receive(sock)["data"]["id"] == eur


# Each rule of the message is tested on subscription_from_message (test_filters).
@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps({"action": "subscribe", "pairs": ["eurusd"]}),
        json.dumps({"action": "subscribe", "batch": "yes"}),
    ],
)
def test_a_malformed_message_gets_an_error_and_changes_nothing(servers, message):
    with ws(servers, 0) as sock:
        subscribe(sock, pairs=["GBP/USD"])
        sock.send(message)
        answer = receive(sock)
        assert answer["type"] == "error" and answer["detail"]
        create(servers, payload("EUR/USD"))
        (gbp,) = create(servers, payload("GBP/USD"))
        assert receive(sock)["data"]["id"] == gbp


def test_the_server_pings(servers):
    with ws(servers, 1) as sock:
        assert json.loads(sock.recv(timeout=WAIT)) == {"type": "ping"}


def test_more_connections_than_allowed_from_one_address_are_closed_with_4029(
    servers,
):
    address = "203.0.113.9"
    with contextlib.ExitStack() as stack:
        for _ in range(MAX_PER_IP):
            subscribe(stack.enter_context(ws(servers, 0, client=address)))
        with ws(servers, 0, client=address) as refused:
            with pytest.raises(ConnectionClosed) as closed:
                refused.recv(timeout=WAIT)
            assert closed.value.rcvd.code == 4029
        with ws(servers, 0, client="203.0.113.10") as other:
            subscribe(other)


class RawWebSocket:
    """A client that can stop reading altogether: a small receive buffer set
    before connecting, the handshake and frames done by hand."""

    def __init__(self, address: str) -> None:
        host, port = address.split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(WAIT)
        self.sock.connect((host, int(port)))
        self.sock.sendall(
            b"GET /ws/events/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"X-Forwarded-For: 198.51.100.7\r\n\r\n"
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        data = text.encode()
        assert len(data) < 126
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + b"\0\0\0\0" + data)

    def _read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def frames(self) -> Iterator[tuple[int, bytes]]:
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(self._read(2), "big")
            elif size == 127:
                size = int.from_bytes(self._read(8), "big")
            yield first & 0x0F, self._read(size)


def test_a_client_that_does_not_read_is_closed_with_4008(servers):
    slow = RawWebSocket(servers["asgi"][0])
    try:
        slow.send_text(json.dumps({"action": "subscribe"}))
        with ws(servers, 0) as reader:
            start = subscribe(reader)
            big = "x" * 20000
            for _ in range(4):
                create(servers, *(payload(reasoning=big) for _ in range(250)))
            # Once a reading client on the same process got them all, the tailer
            # has offered all 1,000 to the one that reads nothing.
            got = [receive(reader)["id"] for _ in range(1000)]
            assert got == log_ids(servers, start)[:1000]
        events, code = 0, None
        for opcode, data in slow.frames():
            if opcode == 8:
                code = int.from_bytes(data[:2], "big")
                break
            events += json.loads(data)["type"].startswith("signal.")
        assert code == 4008
        assert events < 1000  # what the buffers held; the rest is for `after`
    finally:
        slow.sock.close()


def sse_events(lines: Iterator[str], count: int) -> list[dict]:
    events, fields = [], {}
    for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if fields:
                events.append(fields)
                fields = {}
                if len(events) == count:
                    return events
            continue
        name, _, value = line.partition(": ")
        fields[name] = value
    return events


def test_server_sent_events_stream_filters_and_resume_with_last_event_id(servers):
    url = f"http://{servers['asgi'][0]}/api/events/stream"
    start = (log_ids(servers) or [0])[-1]
    ids = create(servers, payload("EUR/USD"), payload("GBP/USD"), payload("EUR/USD"))
    params = {"after": start, "pair": "EUR/USD"}
    with httpx.stream("GET", url, params=params, timeout=WAIT) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first = sse_events(response.iter_lines(), 1)[0]
    assert first["event"] == "signal.created"
    assert json.loads(first["data"])["data"]["id"] == ids[0]
    headers = {"Last-Event-ID": first["id"]}
    with httpx.stream(
        "GET", url, params={"pair": "EUR/USD"}, headers=headers, timeout=WAIT
    ) as response:
        lines = response.iter_lines()
        (second,) = sse_events(lines, 1)
        assert json.loads(second["data"])["data"]["id"] == ids[2]
        (live_id,) = create(servers, payload("EUR/USD"))
        (live,) = sse_events(lines, 1)
        assert json.loads(live["data"])["data"]["id"] == live_id


def test_server_sent_events_send_a_comment_heartbeat(servers):
    url = f"http://{servers['asgi'][1]}/api/events/stream"
    with httpx.stream("GET", url, params={"pair": "NZD/USD"}, timeout=WAIT) as r:
        comments = 0
        for line in r.iter_lines():
            comments += line.startswith(": keep-alive")
            if comments:
                break
    assert comments == 1


def test_server_sent_events_refuse_malformed_parameters(servers):
    url = f"http://{servers['asgi'][1]}/api/events/stream"
    response = httpx.get(url, params={"min_confidence": "x"}, timeout=WAIT)
    assert response.status_code == 400
    assert list(response.json()) == ["min_confidence"]
