"""Faults with real servers: Redis or PostgreSQL stopped under a running API.

The module starts its own PostgreSQL and Redis (scripts/services.sh) so it can stop
and restart them, and one production-like gunicorn worker in front of them.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from signals.tests.factories import signal_payload

SIGNAL = signal_payload(timestamp="2026-02-01T00:00:00Z")

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "scripts" / "services.sh"
pytestmark = [pytest.mark.redis, pytest.mark.postgresql]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """Throw-away PostgreSQL + Redis + one API worker, each stoppable."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.pg_port, self.redis_port, self.port = free_port(), free_port(), free_port()
        self.ports = {"PG_PORT": str(self.pg_port), "REDIS_PORT": str(self.redis_port)}
        self.pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.server: subprocess.Popen | None = None
        self.log = base / "server.log"  # the worker's log: what it met, not timings
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "alphaforge.settings",
            "DEBUG": "false",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": f"postgres://app:app@127.0.0.1:{self.pg_port}/alphaforge",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "RATE_LIMIT_PER_MINUTE": "100000",
            "DB_POOL_SIZE": "1",
            "DB_MAX_OVERFLOW": "2",
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def services(self, command: str) -> None:
        subprocess.run(
            ["bash", str(SERVICES), command, str(self.base / "svc")],
            env={**os.environ, **self.ports},
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self.services("start")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=120,
        )
        created = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from django.contrib.auth.models import User;"
             "from rest_framework.authtoken.models import Token;"
             "s = User.objects.create_user('staff', '', 'pw', is_staff=True);"
             "print(Token.objects.create(user=s).key)"],
            cwd=ROOT, env=self.env, check=True, timeout=120,
            capture_output=True, text=True,
        )  # fmt: skip
        self.staff = {"Authorization": f"Token {created.stdout.split()[-1]}"}
        config = self.base / "gunicorn-empty.conf.py"
        config.write_text("")
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(config),
                "-w",
                "1",
                "--timeout",
                "30",
                "-b",
                f"127.0.0.1:{self.port}",
                "alphaforge.wsgi",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )
        self.wait_for(lambda: self.get("/api/health").status_code == 200)

    def log_since(self, offset: int) -> str:
        """What the server logged after `offset` characters of its log."""
        return self.log.read_text()[offset:]

    def log_size(self) -> int:
        return len(self.log.read_text())

    def get(self, path: str, **headers: str) -> httpx.Response:
        url = f"http://127.0.0.1:{self.port}{path}"
        return httpx.get(url, headers=headers, timeout=10)

    def request(self, method: str, path: str, body: object) -> httpx.Response:
        url = f"http://127.0.0.1:{self.port}{path}"
        return httpx.request(method, url, json=body, headers=self.staff, timeout=10)

    def wait_for(self, condition, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail("condition not reached in time")

    def redis(self, action: str) -> None:
        if action == "stop":
            subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"],
                capture_output=True,
                timeout=10,
            )
        else:
            subprocess.run(
                [
                    "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.redis_port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "yes",
                ],
                check=True,
                timeout=10,
            )

    def postgres(self, action: str) -> None:
        command = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        extra = (
            ["-m", "fast"]
            if action == "stop"
            else [
                "-l",
                str(self.base / "svc" / "pg.log"),
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {self.pg_port} "
                f"-k {self.base / 'svc'} -c fsync=off",
            ]
        )
        subprocess.run(
            [
                *command,
                str(self.pgbin / "pg_ctl"),
                "-D",
                str(self.base / "svc" / "pg"),
                "-w",
                "-t",
                "30",
                action,
                *extra,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        if self.server:
            self.server.terminate()
            self.server.wait(timeout=10)
        self.services("stop")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but PostgreSQL is not installed")
        pytest.skip("PostgreSQL server binaries are not installed")
    # Not under pytest's private temp dir: the postgres user must reach the data.
    base = Path(tempfile.mkdtemp(prefix="alphaforge-faults-"))
    base.chmod(0o755)
    stack = Stack(base)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_redis_down_the_api_answers_from_the_database_and_recovers(stack):
    assert stack.get("/api/signals/").headers["X-Cache"] == "MISS"
    assert stack.get("/api/signals/").headers["X-Cache"] == "HIT"
    stack.redis("stop")
    try:
        # Under load: 8 clients at once, anonymous and staff, reads and a write.
        paths = ["/api/signals/", "/api/signals/stats/", "/api/signals/feed/"] * 8
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda path: stack.get(path).status_code, paths))
            staff = list(pool.map(lambda path: stack.get(path, **stack.staff)
                                  .status_code, paths))  # fmt: skip
        assert codes == staff == [200] * len(paths)
        created = stack.request("POST", "/api/signals/", SIGNAL)
        assert created.status_code == 201, created.text[:300]
        assert stack.get("/api/signals/").json()["count"] == 1
        ready = stack.get("/api/ready")
        assert ready.status_code == 503
        assert (
            ready.json()["cache"] == "unavailable" and "cache" in ready.json()["status"]
        )
    finally:
        stack.redis("start")
    stack.wait_for(lambda: stack.get("/api/ready").status_code == 200)
    # Caching resumes by itself once the breaker's few seconds are over.
    stack.wait_for(
        lambda: stack.get("/api/signals/?page=1").headers["X-Cache"] == "HIT"
    )
    # The write made while Redis was down must not leave a stale answer behind.
    assert stack.get("/api/signals/?page=1").json()["count"] == 1


def test_postgres_down_every_endpoint_answers_json_503_and_recovers(stack):
    assert stack.get("/api/signals/stats/").status_code == 200
    stack.postgres("stop")
    try:
        for method, path, body in (
            ("GET", "/api/signals/?page_size=7", None),
            ("GET", "/api/signals/1/", None),
            ("GET", "/api/signals/feed/?page_size=3", None),
            ("GET", "/api/signals/stats/?pair=X1/Y1", None),
            ("GET", "/api/journal/", None),  # the token lookup needs the database
            ("GET", "/api/journal/stats/", None),
            ("POST", "/api/signals/", SIGNAL),
            ("PATCH", "/api/signals/bulk/", [{"id": 1, "confidence": 50}]),
            ("POST", "/api/journal/", {"pair": "EUR/USD"}),
            ("POST", "/api/auth/token/", {"username": "staff", "password": "pw"}),
        ):
            response = stack.request(method, path, body)  # no hang: 10 s at most
            assert response.status_code == 503, (method, path, response.text[:200])
            assert response.headers["Content-Type"] == "application/json"
            assert "database" in response.json()["detail"]
        ready = stack.get("/api/ready")
        assert ready.status_code == 503 and ready.json()["database"] == "unavailable"
    finally:
        stack.postgres("start")
    stack.wait_for(lambda: stack.get("/api/ready").status_code == 200)
    assert stack.get("/api/signals/?page_size=9").status_code == 200


def test_a_hanging_redis_costs_one_failure_per_breaker_window_and_nothing_stale(
    stack,
):
    """Redis stopped with SIGSTOP hangs instead of refusing: the breaker keeps the
    API answering from the database without waiting on every cache operation, and
    the version bump the write could not make is made once Redis answers, so the
    answer cached before the hang is not served as fresh afterwards."""
    path = "/api/signals/stats/?pair=EUR/USD"
    stack.get(path)
    assert stack.get(path).headers["X-Cache"] == "HIT"
    before = stack.get(path).json()["total"]
    info = subprocess.run(
        ["redis-cli", "-p", str(stack.redis_port), "info", "server"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout  # fmt: skip
    pid = int(info.split("process_id:")[1].split()[0])
    offset = stack.log_size()
    os.kill(pid, signal.SIGSTOP)
    try:
        body = {**SIGNAL, "timestamp": "2026-02-03T00:00:00Z"}
        assert stack.request("POST", "/api/signals/", body).status_code == 201
        reads = 10
        for _ in range(reads):
            answer = stack.get(path)
            assert answer.status_code == 200 and answer.json()["total"] == before + 1
        during = stack.log_since(offset)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "could not bump" in during  # the write met the hang
    # Each failed cache operation waited for its socket timeout. Without the breaker
    # every request would fail at least one; with it, after a failure the cache is
    # not asked for BREAK_SECONDS, so most of these requests never wait on it.
    failures = during.count("cache unavailable")
    assert failures < (1 + reads) / 2, (failures, during[-2000:])

    def fresh_hit() -> bool:
        answer = stack.get(path)
        assert answer.json()["total"] == before + 1, "a stale answer after the hang"
        return answer.headers["X-Cache"] == "HIT"

    # The breaker closes by itself, the lost bump is made, and caching resumes.
    stack.wait_for(fresh_hit)
    assert "cache versions bumped after an outage" in stack.log_since(offset)
