"""Soak: the production server under a mixed read/write load for a long while.

    .venv/bin/python bench/soak.py [--minutes 10] [--connections 200] [--no-write]

Throw-away PostgreSQL and Redis and the production server (gunicorn with
./gunicorn.conf.py, 2 gthread workers, DEBUG off, Redis cache) as in bench/run.py,
then `wrk` with 200 connections for 10 minutes: 85 % anonymous reads (lists, details,
feeds, stats), 10 % staff PATCHes of a signal (each invalidates the signal cache),
5 % journal entries created by a user. Every 5 s it samples the workers' RSS and the
server's PostgreSQL connections (pg_stat_activity). It reports RSS growth after the
first minute (warm-up), the most connections seen against the ceiling
workers × (DB_POOL_SIZE + DB_MAX_OVERFLOW), and wrk's errors (non-2xx and socket),
and writes the "## Soak (bench/soak.py)" section of BENCHMARKS.md.
"""

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench import dataset  # noqa: E402
from bench.run import (  # noqa: E402
    APP_NAME,
    APP_PORT,
    BIN,
    HOST,
    WORKERS,
    Bench,
    Scale,
    list100_paths,
    load_average,
    parse_wrk,
    run_with_deadline,
    write_section,
)

HEADING = "## Soak (bench/soak.py)"
POOL, OVERFLOW = 5, 5
SAMPLE_SECONDS = 5
WARMUP_SECONDS = 60


def soak_lua(reads: list[str], ids: tuple[int, int], staff: str, trader: str) -> str:
    lo, hi = ids
    paths = ", ".join(json.dumps(p) for p in reads)
    return f"""
local reads = {{{paths}}}
local staff = {json.dumps("Token " + staff)}
local trader = {json.dumps("Token " + trader)}
init = function(args)
  local address = tostring({{}}):match("0x(%x+)") or "0"
  math.randomseed(os.time() + tonumber(address:sub(-6), 16))
end
request = function()
  local r = math.random()
  if r < 0.85 then
    local headers = {{["Accept"] = "application/json"}}
    if math.random() < 0.4 then
      return wrk.format("GET", string.format("/api/signals/%d/",
        math.random({lo}, {hi})), headers)
    end
    return wrk.format("GET", reads[math.random(#reads)], headers)
  end
  local headers = {{["Accept"] = "application/json",
                   ["Content-Type"] = "application/json"}}
  if r < 0.95 then
    headers["Authorization"] = staff
    local body = string.format('{{"confidence": %d}}', math.random(1, 99))
    return wrk.format("PATCH", string.format("/api/signals/%d/",
      math.random({lo}, {hi})), headers, body)
  end
  headers["Authorization"] = trader
  local body = '{{"pair": "EUR/USD", "direction": "buy", "entry_price": 1.1,' ..
    ' "quantity": 1000, "opened_at": "2026-02-01T00:00:00Z"}}'
  return wrk.format("POST", "/api/journal/", headers, body)
end
"""


class Soak(Bench):
    def __init__(self, minutes: int, connections: int) -> None:
        super().__init__(Scale(100_000, 200, 1_000, 0, 0, 0, 0, 0, 0, 0, 0), False)
        self.minutes, self.connections = minutes, connections
        self.samples: list[dict[str, Any]] = []

    def workers(self, master: subprocess.Popen) -> list[psutil.Process]:
        return psutil.Process(master.pid).children()

    def sample(self, master: subprocess.Popen, stop: threading.Event) -> None:
        started = time.monotonic()
        with self.psql() as conn:
            while not stop.wait(SAMPLE_SECONDS):
                rss = {}
                for worker in self.workers(master):
                    try:
                        rss[worker.pid] = worker.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
                connections = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [APP_NAME],
                ).fetchone()[0]
                self.samples.append(
                    {"t": time.monotonic() - started, "rss": rss, "pg": connections}
                )

    def execute(self, write: bool) -> str:
        self.check_prerequisites()
        self.load_before = load_average()
        self.services_start()
        self.prepare_database()
        reads = list100_paths()
        reads += [f"/api/signals/feed/?pair={p}" for p in dataset.PAIR_NAMES[:10]]
        reads += [f"/api/signals/stats/?pair={p}" for p in dataset.PAIR_NAMES[:10]]
        script = self.workdir / "soak.lua"
        script.write_text(
            soak_lua(reads, self.id_range, self.staff_token, self.trader_token)
        )
        env = self.server_env(cache=True)
        env.update(BIND=f"{HOST}:{APP_PORT}", DB_POOL_SIZE=str(POOL),
                   DB_MAX_OVERFLOW=str(OVERFLOW))  # fmt: skip
        seconds = self.minutes * 60
        self.log(f"soak: {self.connections} connections for {self.minutes} min")
        stop = threading.Event()
        with self.server("soak", [str(BIN / "gunicorn")], env, APP_PORT,
                         "/api/health") as master:  # fmt: skip
            sampler = threading.Thread(target=self.sample, args=(master, stop))
            sampler.start()
            try:
                done = subprocess.run(
                    ["wrk", "-t2", f"-c{self.connections}", f"-d{seconds}s",
                     "--latency", "--timeout", "30s", "-s", str(script),
                     f"http://{HOST}:{APP_PORT}"],
                    capture_output=True, text=True, timeout=seconds + 120, check=True,
                )  # fmt: skip
            finally:
                stop.set()
                sampler.join()
            pids_end = {w.pid for w in self.workers(master)}
        result = parse_wrk(done.stdout)
        text = self.report(result, pids_end)
        print("\n" + text)
        if write:
            write_section(ROOT / "BENCHMARKS.md", text, HEADING)
            self.log("BENCHMARKS.md updated")
        return text

    def report(self, result: Any, pids_end: set[int]) -> str:
        # After the warm-up; a run too short for one keeps every sample.
        warm = [s for s in self.samples if s["t"] >= WARMUP_SECONDS] or self.samples
        first, last = warm[0], warm[-1]
        rows, growth = [], []
        for pid in sorted(first["rss"]):
            start = first["rss"][pid]
            end = last["rss"].get(pid)
            if end is None:
                rows.append(f"| {pid} | {start / 2**20:.1f} | gone (restarted) | – |")
                continue
            peak = max(s["rss"].get(pid, 0) for s in warm)
            growth.append((end - start) / start * 100)
            rows.append(
                f"| {pid} | {start / 2**20:.1f} | {end / 2**20:.1f} | "
                f"{peak / 2**20:.1f} | {growth[-1]:+.1f} % |"
            )
        most = max(s["pg"] for s in self.samples)
        ceiling = WORKERS * (POOL + OVERFLOW)
        restarted = set(first["rss"]) - pids_end
        lines = [
            HEADING,
            "",
            f"Generated by `.venv/bin/python bench/soak.py` on "
            f"{self.started:%Y-%m-%d %H:%M} UTC.",
            "",
            *self.machine(),
            f"- Server: gunicorn with ./gunicorn.conf.py, {WORKERS} gthread workers, "
            f"DEBUG=false, DB_POOL_SIZE={POOL} + DB_MAX_OVERFLOW={OVERFLOW}, Redis "
            f"cache on, rate limits off; {self.scale.signals:,} signals.",
            f"- Load: `wrk -t2 -c{self.connections} -d{self.minutes * 60}s`: 85 % "
            "anonymous reads (40 % of them details of random signals, the rest lists "
            "by pair and status, feeds and stats by pair), 10 % staff PATCH of a "
            "random signal's confidence (each one invalidates every cached signal "
            "answer), 5 % journal entries created by one user.",
            "",
            "| requests | req/s | p50 ms | p99 ms | errors |",
            "|---:|---:|---:|---:|---:|",
            f"| {result.requests:,} | {result.rps:,.1f} | {result.p50_ms:.1f} | "
            f"{result.p99_ms:.1f} | {result.errors}"
            + (f" ({result.error_detail})" if result.error_detail else "")
            + " |",
            "",
            f"Worker RSS (MiB), from the first sample after the {WARMUP_SECONDS} s "
            f"warm-up (t = {first['t']:.0f} s) to the last (t = {last['t']:.0f} s), "
            f"sampled every {SAMPLE_SECONDS} s:",
            "",
            "| worker pid | after warm-up | at the end | peak | growth |",
            "|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"PostgreSQL connections of the server (pg_stat_activity): at most "
            f"{most} (ceiling {WORKERS} workers × ({POOL} + {OVERFLOW}) = {ceiling}); "
            f"{last['pg']} at the last sample. Workers restarted during the run: "
            f"{len(restarted)}. Targets: RSS growth < 10 % after warm-up "
            f"({'met' if growth and max(growth) < 10 else 'MISSED'}), connections ≤ "
            f"{ceiling} ({'met' if most <= ceiling else 'MISSED'}), zero errors "
            f"({'met' if result.errors == 0 else 'MISSED'}).",
            "",
        ]
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md")
    args = parser.parse_args()
    soak = Soak(args.minutes, args.connections)

    run_with_deadline(soak, args.minutes + 10, write=not args.no_write)


if __name__ == "__main__":
    main()
