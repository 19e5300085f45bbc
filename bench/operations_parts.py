"""The parts of bench/operations.py, measured: the cached list against the floor and
without monitoring, the hit rate of mixed reads, the rate limit across workers, and
compression. Each part returns its figures; bench/report_operations.py writes them."""

import gzip
import http.client
import json
import os
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from bench import dataset
from bench.capture import django_setup
from bench.data import Data
from bench.report import upper_median
from bench.scenarios import Kind, Result, Scale, list100_paths, run_wrk
from bench.servers import APP_PORT, FLOOR_PORT, GUNICORN, HOST, Harness, worker_cpu

PARTS = ("cached_list", "mixed_hit_rate", "rate_limit", "compression")
PLAIN_PORT = APP_PORT + 20  # the unmonitored server
LIMIT_PORT = APP_PORT + 21  # the 4-worker rate-limited server
METRICS_TOKEN = "bench-metrics-token"  # loopback-only throw-away server
WRITE_EVERY = 10  # seconds between the writes of the second mixed phase
RATE_LIMIT = 60  # a minute, of the rate-limited server
SERVERS = ("app", "floor", "unmonitored")  # of the cached list


@dataclass(frozen=True)
class Plan:
    scale: Scale
    rounds: int
    duration: int
    mixed: int
    limit_minutes: int
    clients: int = 50


@dataclass
class CachedList:
    best: dict[str, Result]  # the best round of each of SERVERS
    runs: dict[str, list[float]]  # req/s of each round
    cpu: dict[str, list[float]]  # worker CPU µs a request, each round
    timing_us: float  # what monitoring's timing costs a hit, in-process


@dataclass
class MixedPhase:
    label: str
    result: Result
    hits: float
    misses: float
    writes: int


@dataclass
class Compressed:
    cache: bool
    identity_bytes: int
    brotli_bytes: int
    gzip_bytes: int
    p50: dict[str, list[float]]  # by Accept-Encoding, each run
    rps: dict[str, list[float]]


@dataclass
class Compression:
    runs: list[Compressed] = field(default_factory=list)
    compress_ms: float = 0.0  # brotli of the identity body, in-process
    quality: int = 0  # the middleware's brotli quality


class OperationsParts:
    def __init__(self, harness: Harness, data: Data, plan: Plan) -> None:
        self.harness = harness
        self.data = data
        self.plan = plan

    # -- servers

    def env(self, *, cache: bool, port: int, **overrides: str) -> dict[str, str]:
        env = self.harness.server_env(cache=cache)
        env.update(BIND=f"{HOST}:{port}", METRICS_TOKEN=METRICS_TOKEN, **overrides)
        return env

    def app(self, name: str, port: int, **overrides: Any) -> Any:
        cache = overrides.pop("cache", True)
        env = self.env(cache=cache, port=port, **overrides)
        return self.harness.server(name, [GUNICORN], env, port, "/api/health")

    def floor(self) -> Any:
        (self.harness.workdir / "floor_spec.json").write_text("{}")
        env = self.env(cache=False, port=FLOOR_PORT)
        command = [GUNICORN, "bench.floor_app:application"]
        return self.harness.server("floor", command, env, FLOOR_PORT, "/floor/ping")

    def run_wrk(
        self,
        port: int,
        kinds: list[Kind],
        conns: int,
        seconds: int,
        server: subprocess.Popen | None = None,
        **headers: str,
    ) -> tuple[Result, float]:
        """wrk after a warm-up; with `server`, also the CPU its workers spent per
        request (µs, else 0): steadier than req/s on a shared machine, where another
        process's burst or an uneven spread of the connections over the workers
        moves throughput."""
        workdir = self.harness.workdir
        warmup = self.plan.scale.warmup
        run_wrk(
            workdir, port, kinds, connections=conns, duration=warmup, headers=headers
        )
        before = worker_cpu(server) if server else 0.0
        result = run_wrk(
            workdir, port, kinds, connections=conns, duration=seconds, headers=headers
        )
        cpu_per_request = 0.0
        if server:
            spent = worker_cpu(server) - before
            cpu_per_request = spent / max(result.requests, 1) * 1e6
        self.harness.settle(port, floor=port == FLOOR_PORT)
        return result, cpu_per_request

    # -- 1. cached list against the floor and without monitoring

    def cached_list(self) -> CachedList:
        paths = list100_paths()
        floor_paths = [Kind(1, ["/floor/cached?" + urlencode({"u": p}) for p in paths])]
        app_kinds = [Kind(1, paths)]
        figures = CachedList({}, {n: [] for n in SERVERS}, {n: [] for n in SERVERS}, 0)
        self.harness.log("cached list: production server, floor, unmonitored server")
        with (
            self.app("app", APP_PORT) as app_server,
            self.floor() as floor_server,
            self.app(
                "unmonitored",
                PLAIN_PORT,
                DJANGO_SETTINGS_MODULE="bench.settings_unmonitored",
            ) as plain_server,
        ):
            self.cache_fill(paths)
            for round_ in range(self.plan.rounds):
                order = [
                    ("app", APP_PORT, app_kinds, app_server),
                    ("floor", FLOOR_PORT, floor_paths, floor_server),
                    ("unmonitored", PLAIN_PORT, app_kinds, plain_server),
                ]
                if round_ % 2:
                    order.reverse()
                for name, port, kinds, server in order:
                    self.cached_round(figures, name, port, kinds, server)
        figures.timing_us = self.timing_cost_us()
        return figures

    def cache_fill(self, paths: list[str]) -> None:
        """Warm both servers' caches and store the app's bytes for the floor."""
        import redis

        client = redis.Redis.from_url(self.harness.redis_url)
        for path in paths:
            body, headers = fetch(APP_PORT, path)
            client.set(f"floor:{path}", body)
            fetch(PLAIN_PORT, path)
        client.close()
        _, headers = fetch(APP_PORT, paths[0])
        if headers.get("X-Cache") != "HIT":
            raise RuntimeError(f"the app did not serve a hit: {headers}")

    def cached_round(
        self,
        figures: CachedList,
        name: str,
        port: int,
        kinds: list[Kind],
        server: subprocess.Popen,
    ) -> None:
        result, cpu = self.run_wrk(port, kinds, 64, self.plan.duration, server)
        figures.runs[name].append(result.rps)
        figures.cpu[name].append(cpu)
        self.harness.log(
            f"  {name:12} {result.rps:8.1f} req/s p50 {result.p50_ms:.2f}"
            f" ms p99 {result.p99_ms:.2f} ms errors {result.errors}"
            f" worker CPU {cpu:.0f} us/request"
        )
        if name not in figures.best or result.rps > figures.best[name].rps:
            figures.best[name] = result

    def timing_cost_us(self) -> float:
        """CPU µs that monitoring adds to a fast-path hit, measured in this process
        with the server's multiprocess metrics mode."""
        directory = self.harness.workdir / "prometheus-in-process"
        directory.mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        django_setup(self.harness)
        from monitoring.middleware import request_timed

        runs = []
        for _ in range(5):
            started = time.process_time()
            headers: list[tuple[str, str]] = []
            for _ in range(20_000):
                took = request_timed("GET", "api/signals/", 200, time.perf_counter())
                headers.append(("X-Response-Time", took))
            runs.append((time.process_time() - started) / 20_000 * 1e6)
        return upper_median(runs)

    # -- 2. hit rate of a mixed read scenario

    def mixed_hit_rate(self) -> list[MixedPhase]:
        lo, hi = self.data.id_range
        recent = max(lo, hi - 999)
        pairs = dataset.PAIR_NAMES
        kinds = [
            Kind(0.4, list100_paths()),
            Kind(0.3, fmt="/api/signals/%d/", lo=recent, hi=hi),
            Kind(0.15, [f"/api/signals/feed/?pair={quote(p)}" for p in pairs]),
            Kind(0.15, [f"/api/signals/stats/?pair={quote(p)}" for p in pairs]),
        ]
        phases = []
        for every in (None, WRITE_EVERY):
            label = f"a write every {every} s" if every else "reads only"
            self.harness.log(f"mixed reads, {label}, from a cold cache")
            phases.append(self.mixed_phase(label, kinds, hi, every))
        return phases

    def mixed_phase(
        self, label: str, kinds: list[Kind], signal_id: int, every: int | None
    ) -> MixedPhase:
        import redis

        stop = threading.Event()
        writes = [0]

        def writer() -> None:
            body = json.dumps({"confidence": 55}).encode()
            while every and not stop.wait(every):
                conn = http.client.HTTPConnection(HOST, APP_PORT, timeout=30)
                conn.request(
                    "PATCH",
                    f"/api/signals/{signal_id}/",
                    body,
                    {
                        "Content-Type": "application/json",
                        "Authorization": f"Token {self.data.staff_token}",
                    },
                )
                if conn.getresponse().status == 200:
                    writes[0] += 1
                conn.close()

        with self.app("app-mixed", APP_PORT):
            redis.Redis.from_url(self.harness.redis_url).flushdb()
            before = metrics(APP_PORT)["cache"]
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
            result = run_wrk(
                self.harness.workdir,
                APP_PORT,
                kinds,
                connections=64,
                duration=self.plan.mixed,
            )
            stop.set()
            thread.join()
            after = metrics(APP_PORT)["cache"]
        hits = after["hits"] - before["hits"]
        misses = after["misses"] - before["misses"]
        return MixedPhase(label, result, hits, misses, writes[0])

    # -- 3. the rate limit across four workers

    def rate_limit(self) -> tuple[int, list[tuple[float, int]]]:
        """The first whole minute, and (arrival time, status) of every answer."""
        clients, minutes = self.plan.clients, self.plan.limit_minutes
        self.harness.log(f"rate limit: {clients} clients, 4 workers, {RATE_LIMIT}/min")
        first = int(time.time() // 60) + 1  # the first whole minute
        end = (first + minutes) * 60 + 1
        outcomes: list[tuple[float, int]] = []
        lock = threading.Lock()

        def client() -> None:
            mine = limited_client(end)
            with lock:
                outcomes.extend(mine)

        with self.app(
            "app-limit",
            LIMIT_PORT,
            WEB_CONCURRENCY="4",
            RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT),
        ):
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return first, outcomes

    # -- 4. compression of the 500-signal list

    def compression(self) -> Compression:
        import brotli

        from api.middleware import BROTLI_QUALITY

        path = "/api/signals/?" + urlencode({"pair": "EUR/USD", "page_size": 500})
        self.harness.log("compression of the 500-signal list")
        figures = Compression(quality=BROTLI_QUALITY)
        for cache in (False, True):
            with self.app(f"app-compress-{cache}", APP_PORT, cache=cache):
                compressed, plain = self.compressed(path, cache)
                figures.runs.append(compressed)
        # What brotli adds to a request, without the noise of a shared machine: the
        # compression of this very body at the middleware's quality, in-process.
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            brotli.compress(plain, quality=BROTLI_QUALITY)
            timings.append((time.perf_counter() - started) * 1000)
        figures.compress_ms = upper_median(timings)
        return figures

    def compressed(self, path: str, cache: bool) -> tuple[Compressed, bytes]:
        """Sizes of each coding (checked to decode to the same JSON), then wrk with
        identity and br alternating; and the identity body."""
        import brotli

        plain, _ = fetch(APP_PORT, path, **{"Accept-Encoding": "identity"})
        br, headers = fetch(APP_PORT, path, **{"Accept-Encoding": "br"})
        gz, _ = fetch(APP_PORT, path, **{"Accept-Encoding": "gzip"})
        if headers.get("Content-Encoding") != "br":
            raise RuntimeError(f"no brotli: {headers}")
        if json.loads(brotli.decompress(br)) != json.loads(plain) or json.loads(
            gzip.decompress(gz)
        ) != json.loads(plain):
            raise RuntimeError("compressed bodies differ from identity")
        kinds = [Kind(1, [path])]
        p50: dict[str, list[float]] = {"identity": [], "br": []}
        rps: dict[str, list[float]] = {"identity": [], "br": []}
        for coding in ("identity", "br", "br", "identity"):  # alternating
            result, _ = self.run_wrk(APP_PORT, kinds, 4, self.plan.duration,
                                     **{"Accept-Encoding": coding})  # fmt: skip
            p50[coding].append(result.p50_ms)
            rps[coding].append(result.rps)
        return Compressed(cache, len(plain), len(br), len(gz), p50, rps), plain


def limited_client(end: float) -> list[tuple[float, int]]:
    """One keep-alive client asking as fast as it gets answers until `end`."""
    conn = http.client.HTTPConnection(HOST, LIMIT_PORT, timeout=30)
    mine = []
    while time.time() < end:
        try:
            conn.request(
                "GET",
                "/api/signals/?page_size=1",
                headers={"Accept": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(HOST, LIMIT_PORT, timeout=30)
            status = 0
        # The server admitted it before this moment: by the arrival time an admitted
        # request is never put in a minute before its own (the send time would put
        # the burst admitted at each minute's start into the previous one).
        mine.append((time.time(), status))
    conn.close()
    return mine


def metrics(port: int) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://{HOST}:{port}/api/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def fetch(port: int, path: str, **headers: str) -> tuple[bytes, dict]:
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}",
        headers={"Accept": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read(), dict(response.headers)
