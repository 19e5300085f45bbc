"""The README's first command for real: `scripts/run.sh` (what `make run` runs) on
the embedded defaults serves the REST API, the admin, the WebSocket and the
server-sent events on one port, and a write reaches both live channels."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.servers import free_port, manage

ROOT = Path(__file__).resolve().parent.parent.parent
WAIT = 20  # seconds: a bound on each wait, never an expected duration
DROPPED = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    var = tmp_path_factory.mktemp("quickstart")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(VAR_DIR=str(var), PORT=f"127.0.0.1:{port}", DEMO_CANDLES="600")
    log = (var / "run.log").open("wb")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server, its reloader and the schedule
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # migrate and seed first
        while True:
            assert proc.poll() is None, (var / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the quick start did not serve"
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import User;"
            "from rest_framework.authtoken.models import Token;"
            "s=User.objects.create_user('qs','','pw',is_staff=True,is_superuser=True);"
            "print(Token.objects.create(user=s).key)",
        ).splitlines()[-1]
        yield {
            "url": url,
            "host": f"127.0.0.1:{port}",
            "token": token,
            "log": var / "run.log",
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        assert "Traceback" not in (var / "run.log").read_text()


def create_signal(quickstart: dict, hour: int) -> int:
    response = httpx.post(
        quickstart["url"] + "/api/signals/",
        json={
            "pair": "EUR/USD",
            "timeframe": "1h",
            "direction": "buy",
            "entry_price": 1.1,
            "stop_loss": 1.095,
            "take_profit": 1.11,
            "confidence": 70,
            "timestamp": f"2019-01-01T{hour:02d}:00:00Z",
        },
        headers={"Authorization": f"Token {quickstart['token']}"},
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_the_quick_start_serves_the_api_the_admin_and_the_docs(quickstart):
    signals = httpx.get(quickstart["url"] + "/api/signals/", timeout=WAIT)
    assert signals.status_code == 200 and signals.json()["results"]
    admin = httpx.get(quickstart["url"] + "/admin/login/", timeout=WAIT)
    assert admin.status_code == 200 and "Django" in admin.text
    css = httpx.get(quickstart["url"] + "/static/admin/css/base.css", timeout=WAIT)
    assert css.status_code == 200
    docs = httpx.get(quickstart["url"] + "/api/docs/", timeout=WAIT)
    assert docs.status_code == 200
    # The staff account for the admin, its password printed this once.
    printed = quickstart["log"].read_text()
    assert f"Admin: {quickstart['url']}/admin/  user 'admin'  password '" in printed


def test_a_write_reaches_the_websocket_on_the_quick_start_port(quickstart):
    with connect(f"ws://{quickstart['host']}/ws/events/", open_timeout=WAIT) as sock:
        sock.send(json.dumps({"action": "subscribe", "pairs": ["EUR/USD"]}))
        assert json.loads(sock.recv(timeout=WAIT))["type"] == "subscribed"
        signal_id = create_signal(quickstart, 1)
        deadline = time.monotonic() + WAIT
        while True:
            message = json.loads(sock.recv(timeout=deadline - time.monotonic()))
            if message["type"] != "ping":
                break
    assert message["type"] == "signal.created"
    assert message["data"]["id"] == signal_id


def test_a_write_reaches_the_event_stream_on_the_quick_start_port(quickstart):
    url = quickstart["url"] + "/api/events/stream"
    with httpx.stream("GET", url, params={"pair": "EUR/USD"}, timeout=WAIT) as stream:
        assert stream.status_code == 200
        signal_id = create_signal(quickstart, 2)
        for line in stream.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                break
    assert event["type"] == "signal.created"
    assert event["data"]["id"] == signal_id
