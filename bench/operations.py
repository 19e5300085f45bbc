"""The operations benchmark: response cache, rate limit, compression and monitoring.

    .venv/bin/python bench/operations.py [--quick] [--no-write] [--only PART ...]

Same machinery as bench/run.py (throw-away PostgreSQL and Redis, gunicorn with
./gunicorn.conf.py and DEBUG off, wrk in another process, everything on 127.0.0.1),
a smaller data set (the cache's figures do not depend on the table's size):

1. Cached 100-signal list at 64 connections: the production server (2 workers)
   against the floor serving the same bytes from Redis (bench/floor_app.py), and
   against the same server without the monitoring layer
   (bench/settings_unmonitored.py); rounds alternate, the best of each is kept.
2. Cache hit rate of a mixed read scenario (lists, details of recent signals,
   feeds, stats) with a write every 5 s invalidating everything, counted by the
   server's own /api/metrics from a cold cache.
3. Rate limit: 50 concurrent clients from one IP against 4 workers at
   RATE_LIMIT_PER_MINUTE=60, admitted requests counted per calendar minute.
4. Compression of the 500-signal list: sizes, and p50 with and without
   `Accept-Encoding: br` (cache off, so every request compresses; and cache on).

Writes the "## Operations benchmark (bench/operations.py)" section of BENCHMARKS.md.
"""

import argparse
import gzip
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import brotli  # noqa: E402
import psutil  # noqa: E402

from alphaforge.middleware import BROTLI_QUALITY  # noqa: E402
from bench import dataset  # noqa: E402
from bench.run import (  # noqa: E402
    APP_PORT,
    BIN,
    FLOOR_PORT,
    HOST,
    Bench,
    Kind,
    Result,
    Scale,
    list100_paths,
    load_average,
    run_with_deadline,
    write_section,
)

HEADING = "## Operations benchmark (bench/operations.py)"
PARTS = ("cached_list", "mixed_hit_rate", "rate_limit", "compression")
PLAIN_PORT = APP_PORT + 20  # the unmonitored server
LIMIT_PORT = APP_PORT + 21  # the 4-worker rate-limited server
METRICS_TOKEN = "bench-metrics-token"  # loopback-only throw-away server
WRITE_EVERY = 10  # seconds between the writes of the second mixed phase


@dataclass(frozen=True)
class Plan:
    scale: Scale
    rounds: int
    duration: int
    mixed: int
    limit_minutes: int
    clients: int = 50


FULL = Plan(Scale(100_000, 200, 1_000, 20, 60, 0, 0, 3, 0, 0, 45), 3, 20, 60, 2)
QUICK = Plan(Scale(20_000, 200, 100, 4, 8, 0, 0, 1, 0, 0, 20), 1, 5, 15, 1)


class Operations(Bench):
    def __init__(self, plan: Plan, quick: bool) -> None:
        super().__init__(plan.scale, quick)
        self.plan = plan
        self.only = PARTS
        self.cpu_per_request = 0.0
        self.lines: list[str] = []

    # -- servers

    def env(self, *, cache: bool, port: int, **overrides: str) -> dict[str, str]:
        env = self.server_env(cache=cache)
        env.update(BIND=f"{HOST}:{port}", METRICS_TOKEN=METRICS_TOKEN, **overrides)
        return env

    def app(self, name: str, port: int, **overrides: Any) -> Any:
        cache = overrides.pop("cache", True)
        env = self.env(cache=cache, port=port, **overrides)
        return self.server(name, [str(BIN / "gunicorn")], env, port, "/api/health")

    def floor(self) -> Any:
        (self.workdir / "floor_spec.json").write_text("{}")
        env = self.env(cache=False, port=FLOOR_PORT)
        command = [str(BIN / "gunicorn"), "bench.floor_app:application"]
        return self.server("floor", command, env, FLOOR_PORT, "/floor/ping")

    def metrics(self, port: int) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://{HOST}:{port}/api/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def fetch(self, port: int, path: str, **headers: str) -> tuple[bytes, dict]:
        request = urllib.request.Request(
            f"http://{HOST}:{port}{path}",
            headers={"Accept": "application/json", **headers},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read(), dict(response.headers)

    def run_wrk(
        self,
        port: int,
        kinds: list[Kind],
        conns: int,
        seconds: int,
        server: subprocess.Popen | None = None,
        **headers: str,
    ) -> Result:
        """wrk after a warm-up; with `server`, also the CPU its workers spent per
        request (µs) in `self.cpu_per_request`: steadier than req/s on a shared
        machine, where another process's burst or an uneven spread of the
        connections over the workers moves throughput."""
        self.wrk(
            port, kinds, connections=conns, duration=self.scale.warmup, headers=headers
        )
        before = worker_cpu(server) if server else 0.0
        result = self.wrk(
            port, kinds, connections=conns, duration=seconds, headers=headers
        )
        if server:
            spent = worker_cpu(server) - before
            self.cpu_per_request = spent / max(result.requests, 1) * 1e6
        self.settle(port, floor=port == FLOOR_PORT)
        return result

    # -- 1. cached list against the floor and without monitoring

    def cached_list(self) -> None:
        import redis

        paths = list100_paths()
        floor_paths = [Kind(1, ["/floor/cached?" + urlencode({"u": p}) for p in paths])]
        app_kinds = [Kind(1, paths)]
        best: dict[str, Result] = {}
        runs: dict[str, list[float]] = {"app": [], "floor": [], "unmonitored": []}
        cpu: dict[str, list[float]] = {"app": [], "floor": [], "unmonitored": []}
        self.log("cached list: production server, floor, unmonitored server")
        with (
            self.app("app", APP_PORT) as app_server,
            self.floor() as floor_server,
            self.app(
                "unmonitored",
                PLAIN_PORT,
                DJANGO_SETTINGS_MODULE="bench.settings_unmonitored",
            ) as plain_server,
        ):
            client = redis.Redis.from_url(self.redis_url)
            for path in paths:
                body, headers = self.fetch(APP_PORT, path)
                client.set(f"floor:{path}", body)
                self.fetch(PLAIN_PORT, path)
            client.close()
            _, headers = self.fetch(APP_PORT, paths[0])
            if headers.get("X-Cache") != "HIT":
                raise RuntimeError(f"the app did not serve a hit: {headers}")
            for round_ in range(self.plan.rounds):
                order = [
                    ("app", APP_PORT, app_kinds, app_server),
                    ("floor", FLOOR_PORT, floor_paths, floor_server),
                    ("unmonitored", PLAIN_PORT, app_kinds, plain_server),
                ]
                if round_ % 2:
                    order.reverse()
                for name, port, kinds, server in order:
                    result = self.run_wrk(port, kinds, 64, self.plan.duration, server)
                    runs[name].append(result.rps)
                    cpu[name].append(self.cpu_per_request)
                    self.log(
                        f"  {name:12} {result.rps:8.1f} req/s p50 {result.p50_ms:.2f}"
                        f" ms p99 {result.p99_ms:.2f} ms errors {result.errors}"
                        f" worker CPU {self.cpu_per_request:.0f} us/request"
                    )
                    if name not in best or result.rps > best[name].rps:
                        best[name] = result
        app, floor, plain = best["app"], best["floor"], best["unmonitored"]
        timing_us = self.timing_cost_us()
        cpu_app, cpu_floor, cpu_plain = (
            median(cpu[name]) for name in ("app", "floor", "unmonitored")
        )
        labels = {
            "app": "production server (2 gthread workers)",
            "floor": "floor: the same bytes from Redis, bare WSGI app",
            "unmonitored": "production server without monitoring",
        }
        rows = [
            f"| {labels[name]} | {r.rps:,.1f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{r.errors} | {r.rps / floor.rps:.2f} | "
            f"{' / '.join(f'{v:,.0f}' for v in runs[name])} | "
            f"{median(cpu[name]):.0f} | {cpu_floor / median(cpu[name]):.2f} |"
            for name, r in (("app", app), ("floor", floor), ("unmonitored", plain))
        ]
        self.lines += [
            "### Cached 100-signal list, 64 connections",
            "",
            f"`wrk -t2 -c64 -d{self.plan.duration}s`, 90 URLs (30 pairs × 3 statuses,"
            " page_size=100), anonymous, warm cache; best req/s of "
            f"{self.plan.rounds} alternating round(s) (each round's in the rounds "
            "column). Worker CPU: the CPU time the server's worker processes spent "
            "per request (median of the rounds) — steadier than req/s on this shared "
            "machine, where an uneven spread of wrk's connections over the two "
            "workers or another process's burst moves throughput.",
            "",
            "| server | req/s | p50 ms | p99 ms | errors | ratio (req/s) | rounds "
            "req/s | worker CPU µs/request | ratio (CPU) |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|",
            *rows,
            "",
            "Ratios: floor ÷ server (1.0 = no overhead above the floor). Monitoring "
            f"(timing, per-route histograms in multiprocess mode, instrumented "
            f"cache and database backends): {(1 - app.rps / plain.rps) * 100:+.1f} % "
            f"of the best throughput, {(cpu_app / cpu_plain - 1) * 100:+.1f} % of "
            "worker CPU per request between the two servers (target ≤ 5 %). On a "
            "hit the only code that differs is the timing (`request_timed`: the "
            "route's histogram in multiprocess mode, the slow-request check, "
            f"X-Response-Time), which costs {timing_us:.1f} µs of CPU in-process "
            f"(median of 5 × 20,000 calls): {timing_us / cpu_app * 100:.1f} % of the "
            "server's worker CPU per hit.",
            "",
        ]

    def timing_cost_us(self) -> float:
        """CPU µs that monitoring adds to a fast-path hit, measured in this process
        with the server's multiprocess metrics mode."""
        directory = self.workdir / "prometheus-in-process"
        directory.mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        self.django_setup()
        from monitoring.middleware import request_timed

        runs = []
        for _ in range(5):
            started = time.process_time()
            headers: list[tuple[str, str]] = []
            for _ in range(20_000):
                took = request_timed("GET", "api/signals/", 200, time.perf_counter())
                headers.append(("X-Response-Time", took))
            runs.append((time.process_time() - started) / 20_000 * 1e6)
        return median(runs)

    # -- 2. hit rate of a mixed read scenario

    def mixed_hit_rate(self) -> None:
        lo, hi = self.id_range
        recent = max(lo, hi - 999)
        pairs = dataset.PAIR_NAMES
        kinds = [
            Kind(0.4, list100_paths()),
            Kind(0.3, fmt="/api/signals/%d/", lo=recent, hi=hi),
            Kind(0.15, [f"/api/signals/feed/?pair={quote(p)}" for p in pairs]),
            Kind(0.15, [f"/api/signals/stats/?pair={quote(p)}" for p in pairs]),
        ]
        rows = []
        for every in (None, WRITE_EVERY):
            label = f"a write every {every} s" if every else "reads only"
            self.log(f"mixed reads, {label}, from a cold cache")
            result, hits, misses, writes = self.mixed_phase(kinds, hi, every)
            rate = hits / (hits + misses) if hits + misses else 0.0
            rows.append(
                f"| {label} ({writes} writes) | {result.rps:,.1f} | "
                f"{result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.errors} | "
                f"{hits:,.0f} | {misses:,.0f} | {rate * 100:.1f} % |"
            )
        self.lines += [
            "### Cache hit rate, mixed reads",
            "",
            f"64 connections for {self.plan.mixed} s from a flushed Redis: 40 % lists "
            "(90 URLs), 30 % details of the 1,000 newest signals, 15 % feeds and 15 % "
            "stats by pair (30 URLs each): 1,150 distinct answers. Then the same with "
            f"a staff PATCH every {WRITE_EVERY} s, each of which invalidates every "
            "cached signal answer. Counted by the server's own /api/metrics (`cache` "
            "hits and misses of these requests).",
            "",
            "| load | req/s | p50 ms | p99 ms | errors | hits | misses | hit rate |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]

    def mixed_phase(
        self, kinds: list[Kind], signal_id: int, every: int | None
    ) -> tuple[Result, float, float, int]:
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
                        "Authorization": f"Token {self.staff_token}",
                    },
                )
                if conn.getresponse().status == 200:
                    writes[0] += 1
                conn.close()

        with self.app("app-mixed", APP_PORT):
            redis.Redis.from_url(self.redis_url).flushdb()
            before = self.metrics(APP_PORT)["cache"]
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
            result = self.wrk(APP_PORT, kinds, connections=64, duration=self.plan.mixed)
            stop.set()
            thread.join()
            after = self.metrics(APP_PORT)["cache"]
        hits = after["hits"] - before["hits"]
        misses = after["misses"] - before["misses"]
        return result, hits, misses, writes[0]

    # -- 3. the rate limit across four workers

    def rate_limit(self) -> None:
        clients, limit = self.plan.clients, 60
        minutes = self.plan.limit_minutes
        self.log(f"rate limit: {clients} clients, 4 workers, {limit}/min")
        now = time.time()
        first = int(now // 60) + 1  # the first whole minute
        end = (first + minutes) * 60 + 1
        outcomes: list[tuple[float, int]] = []
        lock = threading.Lock()

        def client() -> None:
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
                # The server admitted it before this moment: by the arrival time
                # an admitted request is never put in a minute before its own (the
                # send time would put the burst admitted at each minute's start
                # into the previous one).
                mine.append((time.time(), status))
            conn.close()
            with lock:
                outcomes.extend(mine)

        with self.app(
            "app-limit",
            LIMIT_PORT,
            WEB_CONCURRENCY="4",
            RATE_LIMIT_PER_MINUTE=str(limit),
        ):
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        rows = []
        for minute in range(first, first + minutes):
            inside = [s for t, s in outcomes if minute * 60 <= t < minute * 60 + 60]
            admitted = sum(1 for s in inside if s == 200)
            refused = sum(1 for s in inside if s == 429)
            other = len(inside) - admitted - refused
            stamp = datetime.fromtimestamp(minute * 60, UTC).strftime("%H:%M")
            rows.append(
                f"| {stamp} | {len(inside):,} | {admitted} | {refused:,} | {other} |"
            )
        self.lines += [
            "### Rate limit across workers",
            "",
            f"{clients} concurrent keep-alive clients from 127.0.0.1, as fast as they "
            f"get answers, against 4 gthread workers with RATE_LIMIT_PER_MINUTE={limit}"
            " (counter in Redis); whole calendar minutes only (the limit's window). "
            "Each answer counts in the minute it arrived in (the server admitted it "
            "before). Target: 60 ± 1 admitted a minute.",
            "",
            "| minute (UTC) | requests | admitted (200) | refused (429) | other |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
        ]

    # -- 4. compression of the 500-signal list

    def compression(self) -> None:
        path = "/api/signals/?" + urlencode({"pair": "EUR/USD", "page_size": 500})
        self.log("compression of the 500-signal list")
        figures = []
        for cache in (False, True):
            with self.app(f"app-compress-{cache}", APP_PORT, cache=cache):
                plain, _ = self.fetch(APP_PORT, path, **{"Accept-Encoding": "identity"})
                br, headers = self.fetch(APP_PORT, path, **{"Accept-Encoding": "br"})
                gz, _ = self.fetch(APP_PORT, path, **{"Accept-Encoding": "gzip"})
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
                    result = self.run_wrk(APP_PORT, kinds, 4, self.plan.duration,
                                          **{"Accept-Encoding": coding})  # fmt: skip
                    p50[coding].append(result.p50_ms)
                    rps[coding].append(result.rps)
                figures.append((cache, len(plain), len(br), len(gz), p50, rps))
        # What brotli adds to a request, without the noise of a shared machine: the
        # compression of this very body at the middleware's quality, in-process.
        timings = []
        for _ in range(200):
            started = time.perf_counter()
            brotli.compress(plain, quality=BROTLI_QUALITY)
            timings.append((time.perf_counter() - started) * 1000)
        compress_ms = median(timings)
        rows = []
        for cache, size, b, g, p50, rps in figures:
            identity, coded = median(p50["identity"]), median(p50["br"])
            rows.append(
                f"| {'on' if cache else 'off'} | {size:,} "
                f"| {b:,} ({(1 - b / size) * 100:.1f} % smaller) "
                f"| {g:,} ({(1 - g / size) * 100:.1f} % smaller) | "
                f"{identity:.2f} / {coded:.2f} | {coded - identity:+.2f} | "
                f"{median(rps['identity']):,.0f} / {median(rps['br']):,.0f} |"
            )
        self.lines += [
            "### Compression, 500-signal list",
            "",
            f"One pair's 500 newest signals; `wrk -t2 -c4 -d{self.plan.duration}s` with"
            " `Accept-Encoding: identity` and `br`, alternating (identity, br, br, "
            "identity; medians). Cache off: every request renders and compresses; "
            "cache on: hits serve the stored compressed bytes.",
            "",
            "| cache | identity bytes | brotli bytes | gzip bytes "
            "| p50 ms identity / br | brotli adds at p50 (ms) | req/s identity / br |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Brotli at quality {BROTLI_QUALITY} (alphaforge/middleware.py) on this "
            f"body, in-process: {compress_ms:.2f} ms (median of 200) — what a miss "
            "pays for compression; a hit pays nothing.",
            "",
        ]

    # -- everything

    def execute(self, write: bool, skip_servers: bool = True) -> str:
        """Run the parts in self.only (all by default), in PARTS' order."""
        self.check_prerequisites()
        before = self.load_before = load_average()
        self.services_start()
        self.prepare_database()
        for part in PARTS:
            if part in self.only:
                getattr(self, part)()
        header = [
            HEADING,
            "",
            f"Generated by `.venv/bin/python bench/operations.py` on "
            f"{self.started:%Y-%m-%d %H:%M} UTC.",
            "",
            *self.machine()[:3],
            f"- Data: {self.scale.signals:,} signals over 30 pairs; gunicorn with "
            "./gunicorn.conf.py, DEBUG=false, Redis cache, PostgreSQL; wrk and the "
            "Python clients on the same 2 cores.",
            f"- Load average before/after: {before} / {load_average()}",
            "",
        ]
        text = "\n".join(header + self.lines)
        print("\n" + text)
        if write:
            write_section(ROOT / "BENCHMARKS.md", text, HEADING)
            self.log("BENCHMARKS.md updated")
        return text


def worker_cpu(server: subprocess.Popen) -> float:
    """CPU seconds (user + system) of a server's worker processes so far."""
    total = 0.0
    for worker in psutil.Process(server.pid).children():
        times = worker.cpu_times()
        total += times.user + times.system
    return total


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md")
    parser.add_argument(
        "--only", nargs="+", choices=PARTS, help="these parts (implies --no-write)"
    )
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    bench = Operations(plan, args.quick)
    bench.only = tuple(args.only or PARTS)

    run_with_deadline(bench, plan.scale.minutes, write=not (args.no_write or args.only))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
