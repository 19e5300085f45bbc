"""The production server for real: gunicorn with ./gunicorn.conf.py, 2 workers, DEBUG off.

Both entry points, each in a subprocess on a free 127.0.0.1 port, on a SQLite database
migrated into a temporary VAR_DIR: the WSGI default and the ASGI application under
gunicorn + UvicornWorker. Compressed answers must decode to the identity answer.
"""

import gzip
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import brotli
import pytest

from tests.servers import free_port, server_stop

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
DROPPED = (
    "DATABASE_URL",
    "REDIS_URL",
    "PROMETHEUS_MULTIPROC_DIR",
    "WEB_CONCURRENCY",
    "WEB_WORKER_CLASS",
    "WEB_THREADS",
    "BIND",
)
METRICS_TOKEN = secrets.token_hex(16)
START = datetime(2026, 1, 5, tzinfo=UTC)
SERVERS = {
    "wsgi": [str(BIN / "gunicorn")],
    "asgi": [
        str(BIN / "gunicorn"),
        "-k",
        "alphaforge.workers.RealtimeWorker",
        "alphaforge.asgi:application",
    ],
}


def call(
    url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    """Status, headers (names case-insensitive) and body."""
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Production variables on a freshly migrated SQLite database, and a staff token."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(tmp_path_factory.mktemp("var")),
        WEB_CONCURRENCY="2",
        NUM_PROXIES="1",  # so X-Forwarded-Proto: https counts, as behind nginx
        RATE_LIMIT_PER_MINUTE="100000",
        METRICS_TOKEN=METRICS_TOKEN,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from django.contrib.auth.models import User;"
            "from rest_framework.authtoken.models import Token;"
            "user = User.objects.create_user('deployer', is_staff=True);"
            "print(Token.objects.create(user=user).key)",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    env["TEST_STAFF_TOKEN"] = created.stdout.strip().splitlines()[-1]
    return env


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(
    request: pytest.FixtureRequest, environment: dict[str, str]
) -> Iterator[str]:
    port = free_port()
    env = {**environment, "BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen(
        SERVERS[request.param],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {proc.stdout.read().decode()[-3000:]}")
            try:
                if call(f"{base}/api/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server not ready within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        code, output = server_stop(proc)
    assert code == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


def signals_for(strategy: str) -> bytes:
    items = []
    for hour in range(30):
        entry = 1.1 + hour / 1000
        items.append(
            {
                "pair": "EUR/USD",
                "timeframe": "1h",
                "direction": "buy",
                "entry_price": f"{entry:.5f}",
                "stop_loss": f"{entry - 0.005:.5f}",
                "take_profit": f"{entry + 0.01:.5f}",
                "confidence": 61.5,
                "timestamp": (START + timedelta(hours=hour)).isoformat(),
                "strategy": strategy,
                "indicators": {"rsi_14": 55.5, "adx_14": 27.25},
                "reasoning": "EMA 20 above EMA 50 with a rising ADX.",
            }
        )
    return json.dumps(items).encode()


def test_health_answers_with_a_timing_header(server: str) -> None:
    status, headers, body = call(f"{server}/api/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers["X-Response-Time"].endswith("ms")


def test_compressed_answers_decode_to_the_identity_answer(
    server: str, environment: dict[str, str]
) -> None:
    secure = {"X-Forwarded-Proto": "https"}
    status, _, body = call(
        f"{server}/api/signals/bulk/",
        body=signals_for(f"test-{server.rsplit(':', 1)[1]}"),
        headers={
            **secure,
            "Content-Type": "application/json",
            "Authorization": f"Token {environment['TEST_STAFF_TOKEN']}",
        },
    )
    assert status == 201, body
    url = f"{server}/api/signals/?page_size=30"
    status, headers, identity = call(
        url, headers={**secure, "Accept-Encoding": "identity"}
    )
    assert status == 200 and "Content-Encoding" not in headers
    assert len(identity) > 500
    expected = json.loads(identity)
    assert len(expected["results"]) == 30

    status, headers, body = call(url, headers={**secure, "Accept-Encoding": "br"})
    assert status == 200 and headers["Content-Encoding"] == "br"
    assert len(body) < len(identity)
    assert json.loads(brotli.decompress(body)) == expected

    status, headers, body = call(url, headers={**secure, "Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == expected


def test_metrics_count_the_requests_of_every_worker(server: str) -> None:
    for _ in range(10):
        call(f"{server}/api/health")
    status, _, body = call(
        f"{server}/api/metrics",
        headers={
            "Authorization": f"Bearer {METRICS_TOKEN}",
            "X-Forwarded-Proto": "https",
        },
    )
    assert status == 200, body
    health = json.loads(body)["performance"]["GET /api/health"]
    assert health["total_requests"] >= 10
