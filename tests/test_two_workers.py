"""Two real server processes sharing one Redis (and one database and metrics dir).

They prove what one process cannot: a write made through one worker is seen by the
next read on the other, cached journal answers never cross users, the rate limit
holds across workers and /api/metrics counts the requests of both.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from conftest import required_redis_url
from tests.servers import free_port, manage

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.redis


HOST = "api.example"


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    redis_url = required_redis_url()  # module-scoped: not the redis_url fixture
    base = tmp_path_factory.mktemp("two-workers")
    (base / "prom").mkdir()
    empty_config = base / "gunicorn_empty.py"
    empty_config.write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
        "DJANGO_SETTINGS_MODULE": "alphaforge.settings",
        "DEBUG": "false",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": f"127.0.0.1,localhost,{HOST}",
        "SECURE_SSL_REDIRECT": "false",
        "VAR_DIR": str(base),
        "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3",
        "PROMETHEUS_MULTIPROC_DIR": str(base / "prom"),
        "RATE_LIMIT_PER_MINUTE": "12",
        # One trusted proxy: each test is its own client by X-Forwarded-For.
        "NUM_PROXIES": "1",
        "RATE_LIMIT_USER_PER_MINUTE": "100000",
        "METRICS_TOKEN": "metrics-token",
    }
    manage(env, "migrate", "--noinput", "-v0")
    tokens = (
        manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import User;"
            "from rest_framework.authtoken.models import Token;"
            "import django.core.cache as c; c.cache.clear();"
            "s=User.objects.create_user('staff','','pw',is_staff=True);"
            "a=User.objects.create_user('ann','','pw');"
            "b=User.objects.create_user('ben','','pw');"
            "print(*(Token.objects.create(user=u).key for u in (s,a,b)))",
        )
        .splitlines()[-1]
        .split()
    )
    procs, urls = [], []
    for _ in range(2):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(empty_config),
                    "-w",
                    "1",
                    "-b",
                    f"127.0.0.1:{port}",
                    "alphaforge.wsgi",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("servers did not start")
            time.sleep(0.1)
    yield {
        # One site behind a balancer: both processes are asked for the same host
        # (answers carry absolute links, so the host is part of a cache key).
        "a": httpx.Client(base_url=urls[0], timeout=10, headers={"Host": HOST}),
        "b": httpx.Client(base_url=urls[1], timeout=10, headers={"Host": HOST}),
        "staff": {"Authorization": f"Token {tokens[0]}"},
        "ann": {"Authorization": f"Token {tokens[1]}"},
        "ben": {"Authorization": f"Token {tokens[2]}"},
        "metrics": {"Authorization": "Bearer metrics-token"},
        "redis_url": env["REDIS_URL"],
    }
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=10)


def signal_body(hour: int) -> dict:
    return {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.09,
        "take_profit": 1.12,
        "confidence": 60,
        "timestamp": f"2026-02-01T{hour:02d}:00:00Z",
    }


def test_a_write_on_one_worker_is_seen_by_the_next_read_on_the_other(servers):
    a, b, staff = servers["a"], servers["b"], servers["staff"]
    assert (
        a.post("/api/signals/", json=signal_body(1), headers=staff).status_code == 201
    )
    first = a.get("/api/signals/", headers=staff)
    assert first.headers["X-Cache"] == "MISS"
    assert b.get("/api/signals/", headers=staff).headers["X-Cache"] == "HIT"
    created = b.post("/api/signals/", json=signal_body(2), headers=staff).json()
    after = a.get("/api/signals/", headers=staff)
    assert after.headers["X-Cache"] == "MISS"
    assert created["id"] in [s["id"] for s in after.json()["results"]]
    patched = a.patch(
        f"/api/signals/{created['id']}/", json={"confidence": 99}, headers=staff
    )
    assert patched.status_code == 200
    detail = b.get(f"/api/signals/{created['id']}/", headers=staff).json()
    assert detail["confidence"] == 99


def test_anonymous_fast_path_hits_are_fresh_on_the_other_process(servers):
    """Anonymous reads are answered ahead of Django (AnonymousCacheApp)."""
    a, b, staff = servers["a"], servers["b"], servers["staff"]
    path, client = "/api/signals/stats/", {"X-Forwarded-For": "10.9.9.2"}
    a.get(path, headers=client)
    # Only the fast path's entry is left: a HIT on b can only come from it.
    store = redis.Redis.from_url(servers["redis_url"])
    view_entries = [k for k in store.scan_iter("*resp:signals:*") if b":anon:" not in k]
    assert view_entries and store.delete(*view_entries)
    hit = b.get(path, headers=client)
    assert hit.headers["X-Cache"] == "HIT" and hit.headers["X-Frame-Options"]
    before = hit.json()["total"]
    assert a.post("/api/signals/", json=signal_body(7), headers=staff).is_success
    fresh = b.get(path, headers=client)
    assert fresh.headers["X-Cache"] == "MISS"
    assert fresh.json()["total"] == before + 1
    assert a.get(path, headers=client).headers["X-Cache"] == "HIT"


def entry(pair: str) -> dict:
    return {
        "pair": pair,
        "direction": "buy",
        "entry_price": 1.1,
        "quantity": 1000,
        "opened_at": "2026-02-01T00:00:00Z",
    }


def test_cached_journal_answers_never_cross_users(servers):
    a, b = servers["a"], servers["b"]
    ann, ben = servers["ann"], servers["ben"]
    assert (
        a.post("/api/journal/", json=entry("EUR/USD"), headers=ann).status_code == 201
    )
    assert (
        b.post("/api/journal/", json=entry("GBP/USD"), headers=ben).status_code == 201
    )
    junk = {
        "Cookie": "sessionid=junk; csrftoken=junk",
        "X-User-Id": "1",
        "X-Forwarded-For": "127.0.0.1",
    }
    for _ in range(2):  # the second round is served from the cache
        for client in (a, b):
            for headers, pair in ((ann, "EUR/USD"), (ben, "GBP/USD")):
                for path in ("/api/journal/", "/api/journal/stats/"):
                    response = client.get(path, headers={**headers, **junk})
                    assert response.status_code == 200
                    body = response.json()
                    if path == "/api/journal/":
                        assert [e["pair"] for e in body["results"]] == [pair]
                    else:
                        assert body["total_trades"] == 1
    for client in (a, b):
        assert client.get("/api/journal/").status_code == 401
        assert client.get("/api/journal/", headers=junk).status_code == 401


def test_the_rate_limit_holds_across_both_workers(servers):
    a, b = servers["a"], servers["b"]
    # The limit counts per calendar minute: a round that a minute boundary cuts is
    # repeated with a fresh client address (no sleep, no aligning to the clock).
    for attempt in range(3):
        client = {"X-Forwarded-For": f"10.9.9.{attempt + 1}"}
        # A forged hop on the left changes nothing: the proxy's entry is the client.
        forged = {"X-Forwarded-For": f"1.2.3.4, 10.9.9.{attempt + 1}"}
        minute = int(time.time() // 60)
        codes = [
            (a if n % 2 else b).get("/api/signals/stats/", headers=client).status_code
            for n in range(30)
        ]
        forged_code = b.get("/api/signals/stats/", headers=forged).status_code
        limited = a.get("/api/signals/stats/", headers=client)
        if int(time.time() // 60) == minute:
            break
    assert codes.count(200) == 12 and codes.count(429) == 18
    assert forged_code == 429
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_metrics_count_the_requests_of_both_workers(servers):
    a, b, staff, metrics = (
        servers["a"],
        servers["b"],
        servers["staff"],
        servers["metrics"],
    )
    route = "GET /api/signals/feed/"

    def count() -> int:
        body = a.get("/api/metrics", headers=metrics).json()
        return body["performance"].get(route, {}).get("total_requests", 0)

    before = count()
    for _ in range(3):
        assert a.get("/api/signals/feed/", headers=staff).status_code == 200
    for _ in range(4):
        assert b.get("/api/signals/feed/", headers=staff).status_code == 200
    assert count() == before + 7
    assert b.get("/api/metrics").status_code in (401, 403)
    text = b.get("/metrics", headers=metrics).text
    assert (
        'alphaforge_request_duration_seconds_count{method="GET",route="/api/signals/feed/"}'
        in text
    )


def test_login_limits_hold_across_both_workers(servers):
    a, b = servers["a"], servers["b"]
    # Names and addresses of this run only: the counters live in the shared store.
    run = uuid.uuid4().hex[:8]
    net = f"10.{int(run[:2], 16)}.{int(run[2:4], 16)}"
    # Failures in a row for one username, from ten addresses, half on each worker.
    for n in range(10):
        wrong = (a if n % 2 else b).post(
            "/api/auth/token/",
            json={"username": f"guess-{run}", "password": "wrong"},
            headers={"X-Forwarded-For": f"{net}.{n}"},
        )
        assert wrong.status_code == 400
    for client in (a, b):
        locked = client.post(
            "/api/auth/token/",
            json={"username": f"guess-{run}", "password": "anything"},
            headers={"X-Forwarded-For": f"{net}.200"},
        )
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    # Attempts per address and minute, other usernames each time: the eleventh of a
    # minute is refused whichever worker takes it. A minute that ends mid-way
    # starts the count again, so that round is repeated (no sleep, no wall clock).
    for attempt in range(3):
        minute = int(time.time() // 60)
        codes = [
            (a if n % 2 else b)
            .post(
                "/api/auth/token/",
                json={"username": f"u{run}-{attempt}-{n}", "password": "x"},
                headers={"X-Forwarded-For": f"{net}.{100 + attempt}"},
            )
            .status_code
            for n in range(11)
        ]
        if int(time.time() // 60) == minute:
            break
    assert codes == [400] * 10 + [429]


def prometheus_value(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_django_request_metrics_count_both_workers_and_fast_path_hits(servers):
    a, b, metrics = servers["a"], servers["b"], servers["metrics"]
    name = "django_http_requests_total_by_view_transport_method_total"
    labels = {"view": "signal-detail", "method": "GET", "transport": "http"}
    signal_id = a.post(
        "/api/signals/", json=signal_body(11), headers=servers["staff"]
    ).json()["id"]
    path, client = f"/api/signals/{signal_id}/", {"X-Forwarded-For": "10.9.9.3"}

    def count() -> float:
        return prometheus_value(a.get("/metrics", headers=metrics).text, name, **labels)

    before = count()
    states = [
        (a, b)[n % 2].get(path, headers=client).headers["X-Cache"] for n in range(4)
    ]
    assert states[0] == "MISS" and states[1:] == ["HIT"] * 3  # answered ahead of Django
    assert count() == before + 4
