"""Processes of a benchmark run: throw-away PostgreSQL and Redis (scripts/services.sh),
servers started and stopped as process groups, the environment they run with, the
servers compared (`server_variants`), a timed POST and a GET to one of them, and the
deadline every run has. Everything listens on 127.0.0.1 only."""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
BIN = (
    ROOT / ".venv" / "bin"
    if (ROOT / ".venv" / "bin").is_dir()
    else Path(sys.executable).parent
)
PYTHON = str(BIN / "python")
GUNICORN = str(BIN / "gunicorn")
HOST = "127.0.0.1"  # loopback only, for every server and every client
PG_PORT, REDIS_PORT = 55480, 56430
APP_PORT, FLOOR_PORT, COMPARE_PORT = 18001, 18002, 18010
COMPARE_PORTS = list(range(COMPARE_PORT, COMPARE_PORT + 6))
WORKERS = 2
APP_NAME = "alphaforge-web"  # application_name of the server's connections
FLOOR_NAME = "alphaforge-floor"
SETUP_NAME = "alphaforge-bench-setup"  # this script's own connections
HUGE = str(10**9)


class Deadline(Exception):
    pass


class Harness:
    """The work directory, the services and the servers of one run."""

    def __init__(self, pg_port: int = PG_PORT, redis_port: int = REDIS_PORT) -> None:
        self.pg_port, self.redis_port = pg_port, redis_port
        self.workdir = Path(tempfile.mkdtemp(prefix="alphaforge-bench-"))
        self.workdir.chmod(0o755)  # PostgreSQL runs as its own user below it
        self.services_dir = self.workdir / "services"
        self.procs: list[subprocess.Popen] = []
        self.services_up = False
        self.secret_key = secrets.token_urlsafe(50)
        self.environ = dict(os.environ)  # before this process adds Django's settings
        self.db_url = f"postgres://app:app@{HOST}:{pg_port}/alphaforge"
        self.redis_url = f"redis://{HOST}:{redis_port}/0"
        self.started = datetime.now(UTC)

    def log(self, message: str) -> None:
        elapsed = (datetime.now(UTC) - self.started).total_seconds()
        print(f"[{elapsed:7.1f}s] {message}", flush=True)

    def check_prerequisites(self) -> None:
        for tool in ("wrk", "redis-server", "psql"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} is not installed (see bench/run.py)")
        for port in (PG_PORT, REDIS_PORT, APP_PORT, FLOOR_PORT, *COMPARE_PORTS):
            with socket.socket() as probe:
                if probe.connect_ex((HOST, port)) == 0:
                    raise SystemExit(f"port {port} on {HOST} is taken; stop that first")

    def _services(self, action: str, *, check: bool) -> None:
        env = {
            **os.environ,
            "PG_PORT": str(self.pg_port),
            "REDIS_PORT": str(self.redis_port),
        }
        subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), action, str(self.services_dir)],
            env=env,
            check=check,
            timeout=120,
            stdout=subprocess.DEVNULL if action == "start" else None,
        )

    def services_start(self) -> None:
        self.services_up = True  # stop even a half-started pair
        self._services("start", check=True)

    def services_stop(self) -> None:
        if not self.services_up:
            return
        self._services("stop", check=False)
        self.services_up = False

    def server_env(self, *, cache: bool, app_name: str = APP_NAME) -> dict[str, str]:
        env = {
            key: value
            for key, value in self.environ.items()
            if key
            not in ("PROMETHEUS_MULTIPROC_DIR", "WEB_WORKER_CLASS", "WEB_THREADS")
        }
        env.update(
            DEBUG="false",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # TLS is a proxy's job; plain-HTTP loopback traffic must not be redirected.
            SECURE_SSL_REDIRECT="false",
            DATABASE_URL=f"{self.db_url}?application_name={app_name}",
            REDIS_URL=self.redis_url,
            ENABLE_CACHE="true" if cache else "false",
            RATE_LIMIT_PER_MINUTE=HUGE,
            RATE_LIMIT_USER_PER_MINUTE=HUGE,
            MAX_PAGE_SIZE="500",
            WEB_CONCURRENCY=str(WORKERS),
            DB_POOL_SIZE="5",
            DB_MAX_OVERFLOW="5",
            DB_MAX_CONNECTIONS="200",  # scripts/services.sh starts PostgreSQL so
            SLOW_REQUEST_MS="100000",  # no log line per slow request under load
            LOG_LEVEL="WARNING",
            FLOOR_SPEC=str(self.workdir / "floor_spec.json"),
        )
        return env

    def start(
        self, name: str, command: list[str], env: dict[str, str], port: int, probe: str
    ) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (self.workdir / f"{name}.log").read_text(errors="replace")[
                    -3000:
                ]
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{tail}")
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}{probe}", timeout=2)
                return proc
            except urllib.error.HTTPError:
                return proc  # it answers, which is all readiness means here
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer on port {port} within 60 s")

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if proc in self.procs:
            self.procs.remove(proc)

    @contextmanager
    def server(
        self, name: str, command: list[str], env: dict[str, str], port: int, probe: str
    ) -> Iterator[subprocess.Popen]:
        proc = self.start(name, command, env, port, probe)
        try:
            yield proc
        finally:
            self.stop(proc)

    def settle(self, port: int, floor: bool) -> None:
        """Wait until the server has worked off requests queued by the last run."""
        path = "/floor/ping" if floor else "/api/health"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=30)
            except urllib.error.HTTPError:
                pass
            except OSError:
                time.sleep(0.5)
                continue
            if time.monotonic() - started < 0.05:
                return
            time.sleep(0.2)

    def describe_server(self, name: str) -> str:
        """The worker class (and threads) gunicorn logged it started `name` with."""
        log = (self.workdir / f"{name}.log").read_text(errors="replace")
        worker = re.search(r"Using worker: (\S+)", log)
        kind = worker.group(1) if worker else "?"
        if kind == "gthread":
            import runpy

            threads = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]
            return f"`{kind}` workers, {threads} threads each"
        return f"`{kind}` workers"

    def teardown(self) -> None:
        for proc in list(self.procs):
            try:
                self.stop(proc)
            except Exception as error:  # keep tearing down the rest
                print(f"could not stop {proc.pid}: {error}", file=sys.stderr)
        try:
            from django.db import connections

            for conn in connections.all():
                if hasattr(conn, "close_pool"):
                    conn.close_pool()
                conn.close()
        except Exception:
            pass
        self.services_stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Run(Protocol):
    harness: Harness

    def execute(self, **options: Any) -> str: ...


def run_with_deadline(bench: Run, minutes: int, **execute: Any) -> None:
    """bench.execute(**execute) within `minutes`; servers and services are torn down
    whatever happens, also on Ctrl-C and SIGTERM."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def too_long(signum: int, frame: Any) -> None:
        raise Deadline(f"the run took longer than {minutes} minutes")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(minutes * 60)
    try:
        bench.execute(**execute)
    except KeyboardInterrupt:
        print("interrupted: tearing down", file=sys.stderr)
        sys.exit(130)
    finally:
        signal.alarm(0)
        bench.harness.teardown()


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def worker_cpu(server: subprocess.Popen) -> float:
    """CPU seconds (user + system) of a server's worker processes so far."""
    import psutil

    total = 0.0
    for worker in psutil.Process(server.pid).children():
        times = worker.cpu_times()
        total += times.user + times.system
    return total


def server_variants() -> list[tuple[str, str, list[str], dict[str, str]]]:
    """(label, name, command, extra environment) of each server compared."""
    granian = str(BIN / "granian")
    return [
        ("gunicorn gthread (WSGI), 4 threads", "gthread", [GUNICORN], {}),
        ("gunicorn sync (WSGI)", "sync", [GUNICORN], {"WEB_THREADS": "1"}),
        (
            "granian WSGI, 4 blocking threads",
            "granian-wsgi",
            [granian, "--interface", "wsgi", "--workers", str(WORKERS),
             "--blocking-threads", "4", "--host", HOST, "--port", "{port}",
             "--no-ws", "alphaforge.wsgi:application"],
            {},
        ),
        (
            "gunicorn + UvicornWorker (ASGI)",
            "uvicorn",
            [GUNICORN, "-k", "uvicorn_worker.UvicornWorker",
             "alphaforge.asgi:application"],
            {},
        ),
        (
            "granian ASGI (asginl)",
            "granian-asgi",
            [granian, "--interface", "asginl", "--workers", str(WORKERS),
             "--host", HOST, "--port", "{port}", "--no-ws",
             "alphaforge.asgi:application"],
            {},
        ),
    ]  # fmt: skip


def post(
    port: int, path: str, body: str, token: str | None
) -> tuple[int, bytes, float]:
    """A POST to the server: status, body and the seconds it took."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=body.encode(), headers=headers
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            content, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        content, status = error.read(), error.code
    return status, content, time.perf_counter() - started


def get(port: int, path: str) -> bytes:
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()
