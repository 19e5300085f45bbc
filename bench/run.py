"""The HTTP benchmark of AlphaForge, in one command:

    .venv/bin/python bench/run.py [--quick] [--skip-servers] [--no-write]

1. Starts throw-away PostgreSQL and Redis (scripts/services.sh, ports 55480/56430),
   migrates, and loads the data set with set-based SQL (bench/dataset.py): 1,000,000
   signals over 30 pairs, 2,000 hourly candles a pair, 100,000 journal entries of one
   user; then VACUUM ANALYZE.
2. Server comparison: the same two endpoints under gunicorn gthread, gunicorn sync,
   granian WSGI, gunicorn + UvicornWorker (ASGI) and granian ASGI, 2 workers each.
3. Starts the production server (gunicorn with ./gunicorn.conf.py, 2 workers, DEBUG
   off) and the FLOOR (bench/floor_app.py: the same SQL through a bare psycopg pool
   and orjson, same server and workers) and drives them with wrk in another process,
   scenario by scenario, each app row followed at once by its floor row. Bulk create
   and fresh generation are timed as single requests. pg_stat_activity is sampled
   throughout.
4. Writes the tables to BENCHMARKS.md under "## HTTP benchmark (bench/run.py)" (other
   sections are kept) and prints them.

Everything listens on 127.0.0.1 only. Servers, PostgreSQL and Redis are stopped at the
end, on failure and on Ctrl-C; the whole run has a deadline (--max-minutes).
`--quick` shrinks the data and the durations for development (its numbers are not the
ones to publish).
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset  # noqa: E402

BIN = (
    ROOT / ".venv" / "bin"
    if (ROOT / ".venv" / "bin").is_dir()
    else Path(sys.executable).parent
)
PYTHON = str(BIN / "python")
HOST = "127.0.0.1"  # loopback only, for every server and every client
PG_PORT, REDIS_PORT = 55480, 56430
APP_PORT, FLOOR_PORT, COMPARE_PORT = 18001, 18002, 18010
WORKERS = 2
APP_NAME = "alphaforge-web"  # application_name of the server's connections
FLOOR_NAME = "alphaforge-floor"
HUGE = str(10**9)
WRK_TIMEOUT = 30  # seconds; a slower answer counts as an error
COMPARE_PROBES = ("list100", "detail", "detail_slow")
STATUSES = ("active", "closed", "expired")
REP_PAIR, REP_STATUS = "EUR/USD", "expired"  # representative values for the capture


@dataclass(frozen=True)
class Scale:
    signals: int
    candles: int
    journal: int
    duration: int  # seconds of each wrk row
    mixed: int  # seconds of the 200-connection mixed row
    compare: int  # seconds of each server-comparison row
    rounds: int  # server-comparison rounds (the best of them is reported)
    warmup: int
    single: int  # timed single requests (bulk, fresh generation)
    bulk_items: int
    minutes: int  # deadline of the whole run


FULL = Scale(1_000_000, 2_000, 100_000, 20, 60, 15, 3, 3, 3, 10_000, 60)
QUICK = Scale(100_000, 1_000, 10_000, 4, 8, 4, 1, 1, 1, 10_000, 20)


@dataclass
class Kind:
    """One kind of request of a wrk scenario: a random path from a list, or a path
    with a random integer in [lo, hi]."""

    weight: float
    paths: list[str] | None = None
    fmt: str | None = None
    lo: int = 0
    hi: int = 0


@dataclass
class Scenario:
    key: str
    label: str
    kinds: list[Kind]
    floor_kinds: list[Kind]
    connections: int
    duration: int
    cache: bool = False
    method: str = "GET"
    body: str | None = None
    token: str | None = None
    note: str = ""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    error_detail: str = ""


@dataclass
class Row:
    scenario: Scenario
    app: Result | None = None
    floor: Result | None = None
    skipped: str = ""


@dataclass
class PgSample:
    web_max: int = 0
    web_active_max: int = 0
    app_user_max: int = 0
    after: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- wrk and its Lua


def list100_args() -> list[dict[str, Any]]:
    """The 100-signal list of each pair and status: 90 URLs' query arguments."""
    return [
        {"pair": pair, "status": status, "page_size": 100}
        for pair in dataset.PAIR_NAMES
        for status in STATUSES
    ]


def list100_paths() -> list[str]:
    return [f"/api/signals/?{urlencode(args)}" for args in list100_args()]


def lua_string(text: str) -> str:
    return json.dumps(text)  # ASCII paths: a JSON string is a valid Lua string


def lua_script(
    kinds: list[Kind],
    method: str,
    body: str | None,
    token: str | None,
    extra_headers: dict[str, str] | None = None,
) -> str:
    entries = []
    for kind in kinds:
        if kind.paths is not None:
            paths = ", ".join(lua_string(p) for p in kind.paths)
            entries.append(f"{{w = {kind.weight}, paths = {{{paths}}}}}")
        else:
            entries.append(
                f"{{w = {kind.weight}, fmt = {lua_string(kind.fmt or '')}, "
                f"lo = {kind.lo}, hi = {kind.hi}}}"
            )
    headers = ['["Accept"] = "application/json"']
    if token:
        headers.append(f'["Authorization"] = {lua_string("Token " + token)}')
    if body is not None:
        headers.append('["Content-Type"] = "application/json"')
    for name, value in (extra_headers or {}).items():
        headers.append(f"[{lua_string(name)}] = {lua_string(value)}")
    body_lua = "nil" if body is None else "[==[" + body + "]==]"
    return f"""
local kinds = {{{", ".join(entries)}}}
local total = 0
for _, k in ipairs(kinds) do total = total + k.w end
local method = {lua_string(method)}
local body = {body_lua}
init = function(args)
  local address = tostring({{}}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(address:sub(-6), 16))
end
request = function()
  local r = math.random() * total
  local acc = 0
  for i, k in ipairs(kinds) do
    acc = acc + k.w
    if r <= acc or i == #kinds then
      local path
      if k.paths then
        path = k.paths[math.random(#k.paths)]
      else
        path = string.format(k.fmt, math.random(k.lo, k.hi))
      end
      local headers = {{{", ".join(headers)}}}
      return wrk.format(method, path, headers, body)
    end
  end
end
"""


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    errors, detail = 0, []
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
        detail.append(f"{non2xx.group(1)} non-2xx")
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        counts = dict(
            zip(
                ("connect", "read", "write", "timeout"),
                map(int, sockets.groups()),
                strict=True,
            )
        )
        errors += sum(counts.values())
        detail += [f"{n} {name}" for name, n in counts.items() if n]
    return Result(rps, p50, p99, requests, errors, ", ".join(detail))


# ------------------------------------------------------------------ the run itself


class Deadline(Exception):
    pass


class Bench:
    def __init__(self, scale: Scale, quick: bool) -> None:
        self.scale = scale
        self.quick = quick
        self.workdir = Path(tempfile.mkdtemp(prefix="alphaforge-bench-"))
        self.workdir.chmod(0o755)  # PostgreSQL runs as its own user below it
        self.services_dir = self.workdir / "services"
        self.procs: list[subprocess.Popen] = []
        self.services_up = False
        self.secret_key = secrets.token_urlsafe(50)
        self.environ = dict(os.environ)  # before this process adds Django's settings
        self.db_url = f"postgres://app:app@{HOST}:{PG_PORT}/alphaforge"
        self.redis_url = f"redis://{HOST}:{REDIS_PORT}/0"
        self.notes: list[str] = []
        self.started = datetime.now(UTC)
        self.load_seconds: dict[str, float] = {}
        self.journal_missing = ""
        self.pg = PgSample()
        self.comparison: list[tuple[str, str, dict[str, Result]]] = []
        self.singles: list[tuple[str, list[float], list[float], str]] = []
        self.rows: list[Row] = []

    # -- processes and services

    def log(self, message: str) -> None:
        elapsed = (datetime.now(UTC) - self.started).total_seconds()
        print(f"[{elapsed:7.1f}s] {message}", flush=True)

    def check_prerequisites(self) -> None:
        for tool in ("wrk", "redis-server", "psql"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} is not installed (see bench/run.py)")
        for port in (PG_PORT, REDIS_PORT, APP_PORT, FLOOR_PORT, *self.compare_ports()):
            with socket.socket() as probe:
                if probe.connect_ex((HOST, port)) == 0:
                    raise SystemExit(f"port {port} on {HOST} is taken; stop that first")

    @staticmethod
    def compare_ports() -> list[int]:
        return list(range(COMPARE_PORT, COMPARE_PORT + 6))

    def services_start(self) -> None:
        env = {**os.environ, "PG_PORT": str(PG_PORT), "REDIS_PORT": str(REDIS_PORT)}
        self.services_up = True  # stop even a half-started pair
        subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "start", str(self.services_dir)],
            env=env,
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )

    def services_stop(self) -> None:
        if not self.services_up:
            return
        env = {**os.environ, "PG_PORT": str(PG_PORT), "REDIS_PORT": str(REDIS_PORT)}
        subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "stop", str(self.services_dir)],
            env=env,
            timeout=120,
            check=False,
        )
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

    # -- data

    def psql(self) -> Any:
        import psycopg

        return psycopg.connect(
            f"{self.db_url}?application_name=alphaforge-bench-setup", autocommit=True
        )

    def prepare_database(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "DEBUG": "true",
        }
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        with self.psql() as conn:
            self.staff_id = self._user(conn, "bench-staff", staff=True)
            self.trader_id = self._user(conn, "bench-trader", staff=False)
            self.staff_token = self._token(conn, self.staff_id)
            self.trader_token = self._token(conn, self.trader_id)
            journal_table = conn.execute(
                "SELECT to_regclass('journal_journalentry')"
            ).fetchone()[0]
        url = self.db_url
        started = time.monotonic()
        count = dataset.load_signals(url, signals=self.scale.signals)
        self.load_seconds["signals"] = time.monotonic() - started
        self.log(f"loaded {count:,} signals in {self.load_seconds['signals']:.1f} s")
        started = time.monotonic()
        count = dataset.load_candles(url, candles=self.scale.candles)
        self.load_seconds["candles"] = time.monotonic() - started
        self.log(f"loaded {count:,} candles in {self.load_seconds['candles']:.1f} s")
        if journal_table is None:
            self.journal_missing = "not measured: journal app missing"
        else:
            started = time.monotonic()
            try:
                count = dataset.load_journal(
                    url, owner_id=self.trader_id, entries=self.scale.journal
                )
            except Exception as error:  # the journal app is still being written
                self.journal_missing = f"not measured: journal load failed ({error})"
            else:
                self.load_seconds["journal"] = time.monotonic() - started
                self.log(
                    f"loaded {count:,} journal entries in "
                    f"{self.load_seconds['journal']:.1f} s"
                )
        started = time.monotonic()
        with self.psql() as conn:
            conn.execute("VACUUM ANALYZE")
            self.id_range = conn.execute(
                "SELECT min(id), max(id) FROM signals_signal"
            ).fetchone()
            self.versions = {
                "PostgreSQL": conn.execute("SHOW server_version").fetchone()[0],
            }
        self.load_seconds["vacuum"] = time.monotonic() - started
        self.log(f"VACUUM ANALYZE in {self.load_seconds['vacuum']:.1f} s")

    @staticmethod
    def _user(conn: Any, username: str, *, staff: bool) -> int:
        return conn.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name,
                                   last_name, email, is_staff, is_active, date_joined)
            VALUES ('!', false, %s, '', '', '', %s, true, now()) RETURNING id
            """,
            [username, staff],
        ).fetchone()[0]

    @staticmethod
    def _token(conn: Any, user_id: int) -> str:
        key = secrets.token_hex(20)
        conn.execute(
            "INSERT INTO authtoken_token (key, created, user_id) "
            "VALUES (%s, now(), %s)",
            [key, user_id],
        )
        return key

    # -- Django in this process: the feed cursor and the floor's SQL

    def django_setup(self) -> None:
        os.environ.update(
            self.server_env(cache=False, app_name="alphaforge-bench"),
            DB_POOL_SIZE="1",
            DB_MAX_OVERFLOW="1",
            DJANGO_SETTINGS_MODULE="alphaforge.settings",
        )
        import django

        django.setup()
        from django.conf import settings

        if "journal" not in settings.INSTALLED_APPS and not self.journal_missing:
            self.journal_missing = "not measured: journal app missing"

    def deep_cursor(self, depth: int) -> str:
        """The feed cursor after `depth` rows: the same rows as page depth/100 + 1."""
        from django.core import signing

        from signals.pagination import CURSOR_SALT

        with self.psql() as conn:
            stamp, pk = conn.execute(
                'SELECT "timestamp", id FROM signals_signal '
                'ORDER BY "timestamp" DESC, id DESC OFFSET %s LIMIT 1',
                [depth - 1],
            ).fetchone()
        return signing.dumps([stamp.isoformat(), pk, "n"], salt=CURSOR_SALT)

    def capture(
        self,
        path: str,
        *,
        method: str = "GET",
        body: str | None = None,
        token: str | None = None,
        vary: dict[str, Any] | None = None,
        writes: bool = False,
    ) -> dict[str, Any]:
        """Run the real view once in this process and record the SQL it sends."""
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections, connection, transaction
        from django.test import Client

        statements: list[tuple[str, Any, bool]] = []

        def record(execute: Callable, sql: str, params: Any, many: bool, context: Any):
            statements.append((sql, params, many))
            return execute(sql, params, many, context)

        # A request must not close the connection inside the rolled-back transaction.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        client = Client(HTTP_HOST=HOST)
        extra = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
        try:
            with connection.execute_wrapper(record):
                if writes:
                    with transaction.atomic():
                        response = self._client_call(client, method, path, body, extra)
                        transaction.set_rollback(True)
                else:
                    response = self._client_call(client, method, path, body, extra)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        if response.status_code not in (200, 201):
            raise RuntimeError(
                f"capture of {method} {path}: {response.status_code} "
                f"{response.content[:300]!r}"
            )
        queries = []
        for sql, params, many in statements:
            if many:
                raise RuntimeError(f"executemany is not replayed by the floor: {sql}")
            query: dict[str, Any] = {
                "sql": sql,
                "params": None if params is None else [encode(p) for p in params],
            }
            if vary and params is not None:
                query["vary"] = {
                    str(index): name
                    for index, value in enumerate(params)
                    for name, wanted in vary.items()
                    if type(value) is type(wanted) and value == wanted
                }
            queries.append(query)
        return {"queries": queries, "writes": writes}

    @staticmethod
    def _client_call(
        client: Any, method: str, path: str, body: str | None, extra: dict
    ) -> Any:
        if method == "POST":
            return client.post(
                path, data=body, content_type="application/json", **extra
            )
        return client.get(path, **extra)

    # -- scenarios

    def build(self) -> tuple[list[Scenario], dict[str, Any]]:
        """The scenarios, and the floor's SQL for each (recorded from real views)."""
        from django.test import Client

        s = self.scale
        lo, hi = self.id_range
        pairs = dataset.PAIR_NAMES
        generate_body = json.dumps({"pairs": pairs, "timeframe": "1h"})
        self.log("capturing the SQL of each scenario for the floor")
        generate_fresh = self.capture(
            "/api/signals/generate/",
            method="POST",
            body=generate_body,
            token=self.staff_token,
            writes=True,
        )
        # Generate for real once, before the deep page and cursor are computed: from
        # here on every call finds "already generated" (or "no setup").
        client = Client(HTTP_HOST=HOST)
        self._client_call(
            client,
            "POST",
            "/api/signals/generate/",
            generate_body,
            {"HTTP_AUTHORIZATION": f"Token {self.staff_token}"},
        )
        list_args = list100_args()
        list_paths = [f"/api/signals/?{urlencode(a)}" for a in list_args]
        list_floor = [
            f"/floor/list100?{urlencode({'pair': a['pair'], 'status': a['status']})}"
            for a in list_args
        ]
        list500_paths = [
            f"/api/signals/?{urlencode({'pair': p, 'page_size': 500})}" for p in pairs
        ]
        list500_floor = [f"/floor/list500?{urlencode({'pair': p})}" for p in pairs]
        depth_pages = min(1000, self.scale.signals // 100)
        cursor = self.deep_cursor((depth_pages - 1) * 100)
        page_path = f"/api/signals/?page={depth_pages}&page_size=100"
        feed_deep_path = "/api/signals/feed/?" + urlencode(
            {"page_size": 100, "cursor": cursor}
        )
        feed_pair_paths = [
            f"/api/signals/feed/?{urlencode({'pair': p, 'page_size': 100})}"
            for p in pairs
        ]
        stats_pair_paths = [
            f"/api/signals/stats/?{urlencode({'pair': p})}" for p in pairs
        ]
        stats_pair_floor = [
            f"/floor/stats_pair?{urlencode({'pair': p})}" for p in pairs
        ]
        rep_id = lo + (hi - lo) * 7 // 13

        def cached(paths: list[str]) -> list[str]:
            return [f"/floor/cached?u={quote(path, safe='')}" for path in paths]

        rep_args = {"pair": REP_PAIR, "status": REP_STATUS, "page_size": 100}
        rep_list = f"/api/signals/?{urlencode(rep_args)}"
        spec = {
            "list100": self.capture(
                rep_list, vary={"pair": REP_PAIR, "status": REP_STATUS}
            ),
            "list500": self.capture(
                f"/api/signals/?{urlencode({'pair': REP_PAIR, 'page_size': 500})}",
                vary={"pair": REP_PAIR},
            ),
            "page_deep": self.capture(page_path),
            "feed_deep": self.capture(feed_deep_path),
            "detail": self.capture(f"/api/signals/{rep_id}/", vary={"id": rep_id}),
            "stats_pair": self.capture(
                f"/api/signals/stats/?{urlencode({'pair': REP_PAIR})}",
                vary={"pair": REP_PAIR},
            ),
            "stats_all": self.capture("/api/signals/stats/"),
            "bulk": self.capture(
                "/api/signals/bulk/",
                method="POST",
                body=self.bulk_body(0),
                token=self.staff_token,
                writes=True,
            ),
            "generate_fresh": generate_fresh,
        }
        # The signed cursor must land exactly where the page does.
        page_first = client.get(page_path).json()["results"][0]["id"]
        feed_first = client.get(feed_deep_path).json()["results"][0]["id"]
        if page_first != feed_first:
            raise RuntimeError(f"feed cursor off: page {page_first}, feed {feed_first}")
        spec["generate"] = self.capture(
            "/api/signals/generate/",
            method="POST",
            body=generate_body,
            token=self.staff_token,
            writes=True,
        )
        if not self.journal_missing:
            try:
                spec["journal_stats"] = self.capture(
                    "/api/journal/stats/", token=self.trader_token
                )
            except Exception as error:
                self.journal_missing = f"not measured: journal stats failed ({error})"
        (self.workdir / "floor_spec.json").write_text(json.dumps(spec))

        d, c = s.duration, 50
        scenarios = [
            Scenario(
                "list100",
                "list 100 signals, filtered by pair + status",
                [Kind(1, list_paths)],
                [Kind(1, list_floor)],
                c,
                d,
                note="90 URLs: 30 pairs × active/closed/expired",
            ),
            Scenario(
                "list100_cached",
                "list 100 signals, pair + status, cached",
                [Kind(1, list_paths)],
                [Kind(1, cached(list_paths))],
                c,
                d,
                cache=True,
                note="ENABLE_CACHE=true, warm; floor: the same bytes from Redis",
            ),
            Scenario(
                "list500",
                "list 500 signals, filtered by pair",
                [Kind(1, list500_paths)],
                [Kind(1, list500_floor)],
                c,
                d,
            ),
            Scenario(
                "page_deep",
                f"page {depth_pages:,} (page_size=100), no filter",
                [Kind(1, [page_path])],
                [Kind(1, ["/floor/page_deep"])],
                8,
                d,
                note=f"OFFSET {(depth_pages - 1) * 100:,} plus COUNT(*)",
            ),
            Scenario(
                "feed_deep",
                f"feed at the same depth ({(depth_pages - 1) * 100:,} rows in)",
                [Kind(1, [feed_deep_path])],
                [Kind(1, ["/floor/feed_deep"])],
                c,
                d,
                note="the cursor of that depth, signed once beforehand",
            ),
            Scenario(
                "detail",
                "detail, random id",
                [Kind(1, fmt="/api/signals/%d/", lo=lo, hi=hi)],
                [Kind(1, fmt="/floor/detail?id=%d", lo=lo, hi=hi)],
                c,
                d,
                note=f"ids {lo:,}–{hi:,}",
            ),
            Scenario(
                "stats_pair",
                "signal stats, one pair",
                [Kind(1, stats_pair_paths)],
                [Kind(1, stats_pair_floor)],
                4,
                d,
            ),
            Scenario(
                "stats_all",
                f"signal stats, all {s.signals:,} signals",
                [Kind(1, ["/api/signals/stats/"])],
                [Kind(1, ["/floor/stats_all"])],
                2,
                d,
            ),
            Scenario(
                "stats_all_cached",
                "signal stats, all signals, cached",
                [Kind(1, ["/api/signals/stats/"])],
                [Kind(1, cached(["/api/signals/stats/"]))],
                c,
                d,
                cache=True,
                note="ENABLE_CACHE=true, warm",
            ),
            Scenario(
                "journal_stats",
                f"journal stats, {s.journal:,} entries of one user",
                [Kind(1, ["/api/journal/stats/"])],
                [Kind(1, ["/floor/journal_stats"])],
                4,
                d,
                token=self.trader_token,
            ),
            Scenario(
                "generate",
                "generate, 30 pairs (POST)",
                [Kind(1, ["/api/signals/generate/"])],
                [Kind(1, ["/floor/generate"])],
                4,
                d,
                method="POST",
                body=generate_body,
                token=self.staff_token,
                note="steady state: every pair 'already generated' or 'no setup'",
            ),
            Scenario(
                "mixed",
                "mixed reads, 200 connections",
                [
                    Kind(0.4, list_paths),
                    Kind(0.4, fmt="/api/signals/%d/", lo=lo, hi=hi),
                    Kind(0.1, feed_pair_paths),
                    Kind(0.1, stats_pair_paths),
                ],
                [
                    Kind(0.4, cached(list_paths)),
                    Kind(0.4, fmt="/floor/detail?id=%d", lo=lo, hi=hi),
                    Kind(0.1, cached(feed_pair_paths)),
                    Kind(0.1, cached(stats_pair_paths)),
                ],
                200,
                s.mixed,
                cache=True,
                note="40 % list, 40 % detail, 10 % feed, 10 % stats by pair; "
                "ENABLE_CACHE=true (production); floor: cached bytes from Redis for "
                "the lists, feeds and stats (warm in the app too), SQL for details",
            ),
        ]
        return scenarios, spec

    def bulk_body(self, number: int) -> str:
        """`bulk_items` valid signals under a strategy name of their own."""
        start = dataset.END + timedelta(days=400 * (number + 1))
        items = []
        for i in range(self.scale.bulk_items):
            pair = dataset.PAIR_NAMES[i % 30]
            entry = Decimal("1.10000") + Decimal(i % 97) / 10000
            buy = i % 2 == 0
            sign = 1 if buy else -1
            items.append(
                {
                    "pair": pair,
                    "timeframe": "1h",
                    "direction": "buy" if buy else "sell",
                    "entry_price": str(entry),
                    "stop_loss": str(entry - sign * Decimal("0.00500")),
                    "take_profit": str(entry + sign * Decimal("0.01000")),
                    "confidence": 50 + i % 50,
                    "timestamp": (start + timedelta(hours=i // 30)).isoformat(),
                    "strategy": f"bench-bulk-{number}",
                    "indicators": {"rsi_14": 55.5, "adx_14": 27.1, "atr_14": 0.0031},
                }
            )
        return json.dumps(items)

    # -- measuring

    def wrk(
        self,
        port: int,
        kinds: list[Kind],
        *,
        connections: int,
        duration: int,
        method: str = "GET",
        body: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        script = self.workdir / f"wrk-{secrets.token_hex(4)}.lua"
        script.write_text(lua_script(kinds, method, body, token, headers))
        command = [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            f"{WRK_TIMEOUT}s",
            "-s",
            str(script),
            f"http://{HOST}:{port}",
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=True
        )
        return parse_wrk(done.stdout)

    def measure(self, port: int, scenario: Scenario, floor: bool) -> Result:
        kinds = scenario.floor_kinds if floor else scenario.kinds
        options = {
            "method": scenario.method,
            "body": scenario.body,
            "token": None if floor else scenario.token,
        }
        warm = max(self.scale.warmup, 1)
        self.wrk(
            port, kinds, connections=scenario.connections, duration=warm, **options
        )
        result = self.wrk(
            port,
            kinds,
            connections=scenario.connections,
            duration=scenario.duration,
            **options,
        )
        self.settle(port, floor)
        who = "floor" if floor else "app"
        self.log(
            f"  {who:5} {scenario.key:20} {result.rps:9.1f} req/s  "
            f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  "
            f"errors {result.errors}"
        )
        return result

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

    @contextmanager
    def pg_watch(self) -> Iterator[None]:
        """Sample pg_stat_activity every 0.25 s while the block runs."""
        stop = threading.Event()

        def sample() -> None:
            with self.psql() as conn:
                while not stop.is_set():
                    web, active, app_user = conn.execute(
                        """
                        SELECT count(*) FILTER (WHERE application_name = %s),
                               count(*) FILTER (WHERE application_name = %s
                                                  AND state = 'active'),
                               count(*) FILTER (WHERE application_name <> %s)
                        FROM pg_stat_activity
                        WHERE usename = 'app' AND backend_type = 'client backend'
                        """,
                        [APP_NAME, APP_NAME, "alphaforge-bench-setup"],
                    ).fetchone()
                    self.pg.web_max = max(self.pg.web_max, web)
                    self.pg.web_active_max = max(self.pg.web_active_max, active)
                    self.pg.app_user_max = max(self.pg.app_user_max, app_user)
                    stop.wait(0.25)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def web_connections(self) -> dict[str, int]:
        with self.psql() as conn:
            rows = conn.execute(
                "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity "
                "WHERE usename = 'app' AND application_name = %s "
                "AND backend_type = 'client backend' GROUP BY 1",
                [APP_NAME],
            ).fetchall()
        return dict(rows)

    def post(
        self, port: int, path: str, body: str, token: str | None
    ) -> tuple[int, bytes, float]:
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

    def get(self, port: int, path: str) -> bytes:
        request = urllib.request.Request(
            f"http://{HOST}:{port}{path}", headers={"Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    def delete_generated(self) -> None:
        with self.psql() as conn:
            conn.execute(
                'DELETE FROM signals_signal WHERE strategy = %s AND "timestamp" >= %s',
                [dataset.STRATEGY, dataset.END],
            )

    # -- phases

    def compare_servers(self, scenarios: dict[str, Scenario]) -> None:
        self.log("server comparison (2 workers each)")
        gunicorn = str(BIN / "gunicorn")
        granian = str(BIN / "granian")
        variants = [
            ("gunicorn gthread (WSGI), 4 threads", "gthread", [gunicorn], {}),
            ("gunicorn sync (WSGI)", "sync", [gunicorn], {"WEB_THREADS": "1"}),
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
                [gunicorn, "-k", "uvicorn_worker.UvicornWorker",
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
        best: dict[str, dict[str, Result]] = {v[1]: {} for v in variants}
        for round_ in range(self.scale.rounds):
            # Alternate the order so that no server always runs in the same slot.
            order = list(enumerate(variants))
            if round_ % 2:
                order.reverse()
            for number, (label, name, command, extra) in order:
                port = COMPARE_PORT + number
                env = self.server_env(cache=False)
                env.update(BIND=f"{HOST}:{port}", **extra)
                if name in ("gthread", "sync"):
                    env["WEB_WORKER_CLASS"] = name
                if name.startswith("granian"):
                    directory = self.workdir / f"metrics-{name}-{round_}"
                    directory.mkdir()
                    env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
                command = [part.replace("{port}", str(port)) for part in command]
                try:
                    with self.server(name, command, env, port, "/api/health"):
                        for key in COMPARE_PROBES:
                            result = self.compare_probe(port, name, key, scenarios)
                            current = best[name].get(key)
                            if current is None or result.rps > current.rps:
                                best[name][key] = result
                except RuntimeError as error:
                    self.notes.append(f"{label}: failed to run ({error})")
        for label, name, *_ in variants:
            self.comparison.append((label, name, best[name]))

    def compare_probe(
        self, port: int, name: str, key: str, scenarios: dict[str, Scenario]
    ) -> Result:
        """One comparison row; `detail_slow`: details while 2 clients ask for the
        uncached stats over every signal (seconds each), as happens in production."""
        base = scenarios["detail" if key == "detail_slow" else key]
        probe = Scenario(
            f"{name}/{key}", key, base.kinds, base.floor_kinds, 50, self.scale.compare
        )
        if key != "detail_slow":
            return self.measure(port, probe, floor=False)
        seconds = self.scale.compare + max(self.scale.warmup, 1) + 2
        script = self.workdir / f"wrk-slow-{secrets.token_hex(4)}.lua"
        script.write_text(
            lua_script([Kind(1, ["/api/signals/stats/"])], "GET", None, None)
        )
        slow = subprocess.Popen(
            ["wrk", "-t1", "-c2", f"-d{seconds}s", "--timeout", f"{WRK_TIMEOUT}s",
             "-s", str(script), f"http://{HOST}:{port}"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.procs.append(slow)
        try:
            return self.measure(port, probe, floor=False)
        finally:
            try:
                slow.wait(timeout=seconds + WRK_TIMEOUT + 10)
            finally:
                self.stop(slow)

    def app_phase(self, scenarios: list[Scenario], *, cache: bool) -> None:
        """Each scenario on the app, then at once on the floor (same load window)."""
        env = self.server_env(cache=cache)
        env["BIND"] = f"{HOST}:{APP_PORT}"
        name = "app-cached" if cache else "app"
        self.log(f"production server, ENABLE_CACHE={str(cache).lower()}, and floor")
        with self.server(name, [str(BIN / "gunicorn")], env, APP_PORT, "/api/health"):
            self.server_description = self.describe_server(name)
            with self.pg_watch():
                for scenario in scenarios:
                    row = self.row(scenario)
                    if scenario.key == "journal_stats" and self.journal_missing:
                        row.skipped = self.journal_missing
                        continue
                    if cache:
                        self.fill_floor_cache(scenario)
                    row.app = self.measure(APP_PORT, scenario, floor=False)
                    if scenario.key == "mixed":
                        time.sleep(3)
                        self.pg.after = self.web_connections()
                    row.floor = self.measure(FLOOR_PORT, scenario, floor=True)
                if not cache:
                    self.single_requests()

    def describe_server(self, name: str) -> str:
        log = (self.workdir / f"{name}.log").read_text(errors="replace")
        worker = re.search(r"Using worker: (\S+)", log)
        kind = worker.group(1) if worker else "?"
        if kind == "gthread":
            import runpy

            threads = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]
            return f"`{kind}` workers, {threads} threads each"
        return f"`{kind}` workers"

    def fill_floor_cache(self, scenario: Scenario) -> None:
        """Warm the app's cache, and store its bytes where the floor reads them."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        for kind in scenario.kinds:
            for path in kind.paths or []:
                body = self.get(APP_PORT, path)
                client.set(f"floor:{path}", body)
        client.close()

    def single_requests(self) -> None:
        """Bulk create and fresh generation, timed one request at a time."""
        bulk_body = json.dumps({"pairs": dataset.PAIR_NAMES, "timeframe": "1h"})
        times: dict[str, list[float]] = {
            "bulk": [], "bulk_floor": [], "generate": [], "generate_floor": []
        }  # fmt: skip
        created = []
        # Body 0 is the one the floor replays (never committed): start at 1.
        for number in range(1, self.scale.single + 2):
            timed = number > 1  # the first round only warms both servers up
            status, content, seconds = self.post(
                APP_PORT, "/api/signals/bulk/", self.bulk_body(number), self.staff_token
            )
            if status != 201:
                raise RuntimeError(f"bulk create: {status} {content[:300]!r}")
            if timed:
                times["bulk"].append(seconds)
            status, content, seconds = self.post(
                FLOOR_PORT, "/floor/bulk", self.bulk_body(number), None
            )
            if status != 200:
                raise RuntimeError(f"floor bulk: {status} {content[:300]!r}")
            if timed:
                times["bulk_floor"].append(seconds)
            self.delete_generated()
            status, content, seconds = self.post(
                APP_PORT, "/api/signals/generate/", bulk_body, self.staff_token
            )
            if status != 200:
                raise RuntimeError(f"generate: {status} {content[:300]!r}")
            if timed:
                times["generate"].append(seconds)
                created.append(len(json.loads(content)["generated"]))
            self.delete_generated()  # the floor replays the inserts, rolled back
            status, content, seconds = self.post(
                FLOOR_PORT, "/floor/generate_fresh", "{}", None
            )
            if status != 200:
                raise RuntimeError(f"floor generate: {status} {content[:300]!r}")
            if timed:
                times["generate_floor"].append(seconds)
        with self.psql() as conn:
            conn.execute(
                "DELETE FROM signals_signal WHERE strategy LIKE 'bench-bulk-%'"
            )
        self.log(
            f"  bulk {self.scale.bulk_items:,}: app {fmt_seconds(times['bulk'])} s, "
            f"floor {fmt_seconds(times['bulk_floor'])} s"
        )
        self.log(
            f"  generate fresh: app {fmt_seconds(times['generate'])} s, "
            f"floor {fmt_seconds(times['generate_floor'])} s"
        )
        self.singles = [
            (
                f"bulk create {self.scale.bulk_items:,} signals (POST, staff token)",
                times["bulk"],
                times["bulk_floor"],
                "all or nothing; rows deleted afterwards",
            ),
            (
                "generate, 30 pairs, fresh (POST)",
                times["generate"],
                times["generate_floor"],
                "generated signals deleted before each call; "
                f"{'/'.join(map(str, created))} signals generated",
            ),
        ]

    def row(self, scenario: Scenario) -> Row:
        for row in self.rows:
            if row.scenario.key == scenario.key:
                return row
        row = Row(scenario)
        self.rows.append(row)
        return row

    # -- the report

    def machine(self) -> list[str]:
        cpu = "?"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = "?"
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        from importlib.metadata import version

        import redis

        packages = ", ".join(
            f"{name} {version(name)}"
            for name in (
                "Django",
                "djangorestframework",
                "gunicorn",
                "uvicorn",
                "uvicorn-worker",
                "granian",
                "psycopg",
                "psycopg-pool",
                "orjson",
            )
        )
        client = redis.Redis.from_url(self.redis_url)
        redis_version = client.info("server")["redis_version"]
        client.close()
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        wrk_version = (wrk.stdout + wrk.stderr).split()[1]
        return [
            f"- Machine: {os.cpu_count()} CPUs (nproc), {memory} RAM, {cpu}; "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}; {packages}",
            f"- PostgreSQL {self.versions['PostgreSQL']} (scripts/services.sh: "
            f"fsync=off, max_connections=200, otherwise defaults), Redis "
            f"{redis_version}, wrk {wrk_version}",
            f"- Load average before/after: {self.load_before} / {load_average()}",
        ]

    def report(self) -> str:
        s = self.scale
        lines = [
            "## HTTP benchmark (bench/run.py)",
            "",
            "Generated by `.venv/bin/python bench/run.py"
            + (" --quick" if self.quick else "")
            + "`"
            f" on {self.started:%Y-%m-%d %H:%M} UTC"
            + (
                " — QUICK MODE: small data, short runs, not for comparison"
                if self.quick
                else ""
            )
            + ".",
            "",
            *self.machine(),
            f"- Data: {s.signals:,} signals over 30 pairs, {s.candles:,} hourly "
            f"candles a pair, {s.journal:,} journal entries of one user; loaded in "
            + ", ".join(f"{k} {v:.0f} s" for k, v in self.load_seconds.items())
            + " (INSERT … SELECT FROM generate_series)",
            f"- Server: `gunicorn` with ./gunicorn.conf.py, {WORKERS} "
            f"{getattr(self, 'server_description', '?')}, "
            "DEBUG=false, DB_POOL_SIZE=5 + DB_MAX_OVERFLOW=5, MAX_PAGE_SIZE=500, "
            "rate limits 10^9/min (so the throttle's Redis counter still runs), "
            "Redis cache, PROMETHEUS_MULTIPROC_DIR metrics on",
            f"- Load: `wrk -t2 -c<conns> -d{s.duration}s --latency "
            f"--timeout {WRK_TIMEOUT}s` "
            f"(mixed: {s.mixed} s) from another process on the same machine, after a "
            f"{s.warmup} s warm-up; no Accept-Encoding, so no compression; errors = "
            "non-2xx + socket errors",
            "- Floor: bench/floor_app.py on the same server and worker count: the SQL "
            "the view sent (recorded from the real view) through a bare psycopg_pool "
            "pool, rows serialised with orjson; cached rows: the same bytes from "
            "Redis. Each floor row runs right after its app row, both servers up. "
            "Ratio = app req/s ÷ floor req/s (1.0 = no overhead above the floor).",
            "- The machine is shared with other engineers' test runs, so every figure "
            "is noisy (see the load averages); compare rows of one run, not runs.",
            "",
        ]
        if self.comparison:
            lines += [
                "### Server comparison",
                "",
                f"2 workers each, `-c50 -d{s.compare}s`, ENABLE_CACHE=false; the "
                f"best of {s.rounds} round(s), run in alternating order (other "
                'load only ever slows a run down). "During slow stats": the detail '
                "row again while 2 more connections ask for the uncached stats over "
                "all signals (seconds each).",
                "",
                "| server | list 100 (pair+status) req/s | p50 / p99 ms | detail req/s "
                "| p50 / p99 ms | detail during slow stats req/s | p50 / p99 ms "
                "| errors |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for label, _, results in self.comparison:
                cells = []
                for key in COMPARE_PROBES:
                    result = results.get(key)
                    cells += (
                        [
                            f"{result.rps:,.0f}",
                            f"{result.p50_ms:.0f} / {result.p99_ms:.0f}",
                        ]
                        if result
                        else ["failed", ""]
                    )
                errors = sum(r.errors for r in results.values())
                lines.append(f"| {label} | {' | '.join(cells)} | {errors} |")
            lines.append("")
        lines += [
            "### Endpoints under the production server",
            "",
            "| scenario | conns | req/s | p50 ms | p99 ms | errors | floor req/s "
            "| floor p50 ms | ratio | notes |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in self.rows:
            sc = row.scenario
            if row.skipped or row.app is None:
                lines.append(
                    f"| {sc.label} | {sc.connections} | {row.skipped or 'not measured'}"
                    " | | | | | | | |"
                )
                continue
            floor = row.floor
            ratio = f"{row.app.rps / floor.rps:.2f}" if floor and floor.rps else "–"
            errors = f"{row.app.errors}" + (
                f" ({row.app.error_detail})" if row.app.error_detail else ""
            )
            lines.append(
                f"| {sc.label} | {sc.connections} | {row.app.rps:,.1f} | "
                f"{row.app.p50_ms:.1f} | {row.app.p99_ms:.1f} | {errors} | "
                f"{floor.rps:,.1f} | {floor.p50_ms:.1f} | {ratio} | {sc.note} |"
                if floor
                else f"| {sc.label} | {sc.connections} | {row.app.rps:,.1f} | "
                f"{row.app.p50_ms:.1f} | {row.app.p99_ms:.1f} | {errors} | – | – | – "
                f"| {sc.note} |"
            )
        lines += [
            "",
            "### Single requests",
            "",
            "| request | seconds per request (each run) | floor s/request | ratio "
            "(floor ÷ app time) | notes |",
            "|---|---:|---:|---:|---|",
        ]
        for label, app_times, floor_times, note in self.singles:
            ratio = (
                f"{median(floor_times) / median(app_times):.2f}"
                if app_times and floor_times
                else "–"
            )
            lines.append(
                f"| {label} | {fmt_seconds(app_times)} | {fmt_seconds(floor_times)} "
                f"| {ratio} | {note} |"
            )
        after = self.pg.after
        lines += [
            "",
            "### Database connections (pg_stat_activity)",
            "",
            f"Sampled every 0.25 s during the production-server runs: at most "
            f"{self.pg.web_max} connections of the server ({self.pg.web_active_max} "
            f"active at once); at most {self.pg.app_user_max} for the `app` user in "
            "all (the floor server's and this script's included). The ceiling is "
            f"{WORKERS} workers × (5 + 5) "
            f"= {WORKERS * 10}. Three seconds after the 200-connection run: "
            + (
                ", ".join(f"{n} {state}" for state, n in sorted(after.items()))
                if after
                else "not sampled"
            )
            + f" (pool minimum {WORKERS} × 5 = {WORKERS * 5}).",
            "",
        ]
        if self.notes:
            lines += ["Notes:", "", *[f"- {note}" for note in self.notes], ""]
        return "\n".join(lines)

    # -- everything

    def execute(self, write: bool, skip_servers: bool) -> str:
        self.check_prerequisites()
        self.load_before = load_average()
        self.log(f"work directory {self.workdir}")
        self.services_start()
        self.log(f"PostgreSQL on {HOST}:{PG_PORT}, Redis on {HOST}:{REDIS_PORT}")
        self.prepare_database()
        self.django_setup()
        scenarios, _ = self.build()
        by_key = {scenario.key: scenario for scenario in scenarios}
        if not skip_servers:
            self.compare_servers(by_key)
        uncached = [sc for sc in scenarios if not sc.cache]
        cached = [sc for sc in scenarios if sc.cache]
        for scenario in scenarios:
            self.row(scenario)  # the table keeps the order above
        floor_env = self.server_env(cache=False, app_name=FLOOR_NAME)
        floor_env["BIND"] = f"{HOST}:{FLOOR_PORT}"
        floor = [str(BIN / "gunicorn"), "bench.floor_app:application"]
        with self.server("floor", floor, floor_env, FLOOR_PORT, "/floor/ping"):
            self.app_phase(uncached, cache=False)
            self.app_phase(cached, cache=True)
        text = self.report()
        print("\n" + text)
        if write:
            write_section(ROOT / "BENCHMARKS.md", text)
            self.log("BENCHMARKS.md updated")
        return text


def encode(value: Any) -> Any:
    """Query parameters as JSON (bench/floor_app.py decodes them)."""
    from psycopg.types.json import Jsonb

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"t": "decimal", "v": str(value)}
    if isinstance(value, datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, Jsonb):
        return {"t": "jsonb", "v": value.obj}
    if isinstance(value, list | tuple):
        return {"t": "list", "v": [encode(item) for item in value]}
    raise TypeError(f"cannot record a {type(value).__name__} parameter")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def fmt_seconds(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "–"


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def write_section(
    path: Path, text: str, heading: str = "## HTTP benchmark (bench/run.py)"
) -> None:
    """Replace our section (up to the next level-2 heading) or append it."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start = current.find(heading)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        after = current.find("\n## ", start + len(heading))
        rest = current[after + 1 :] if after != -1 else ""
        updated = (
            current[:start] + text.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
        )
    path.write_text(updated)


def run_with_deadline(bench: "Bench", minutes: int, **execute: Any) -> None:
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
        bench.teardown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument(
        "--skip-servers", action="store_true", help="no server comparison"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave BENCHMARKS.md"
    )
    parser.add_argument("--max-minutes", type=int, help="deadline of the whole run")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    run_with_deadline(
        Bench(scale, args.quick),
        args.max_minutes or scale.minutes,
        write=not args.no_write,
        skip_servers=args.skip_servers,
    )


if __name__ == "__main__":
    main()
