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
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from bench import dataset  # noqa: E402
from bench.data import prepare_database, psql  # noqa: E402
from bench.report import machine, write_section  # noqa: E402
from bench.report_soak import (  # noqa: E402
    HEADING,
    OVERFLOW,
    POOL,
    SAMPLE_SECONDS,
    soak_report,
)
from bench.scenarios import list100_paths, parse_wrk, soak_lua  # noqa: E402
from bench.servers import (  # noqa: E402
    APP_NAME,
    APP_PORT,
    GUNICORN,
    HOST,
    ROOT,
    Harness,
    load_average,
    run_with_deadline,
)

SIGNALS, CANDLES, JOURNAL = 100_000, 200, 1_000


class Soak:
    def __init__(self, minutes: int, connections: int) -> None:
        self.harness = Harness()
        self.minutes, self.connections = minutes, connections
        self.samples: list[dict[str, Any]] = []

    def sample(self, master: subprocess.Popen, stop: threading.Event) -> None:
        started = time.monotonic()
        with psql(self.harness.db_url) as conn:
            while not stop.wait(SAMPLE_SECONDS):
                rss = {}
                for worker in psutil.Process(master.pid).children():
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
        harness = self.harness
        harness.check_prerequisites()
        load_before = load_average()
        harness.services_start()
        data = prepare_database(
            harness.db_url,
            signals=SIGNALS,
            candles=CANDLES,
            journal=JOURNAL,
            log=harness.log,
        )
        reads = list100_paths()
        reads += [f"/api/signals/feed/?pair={p}" for p in dataset.PAIR_NAMES[:10]]
        reads += [f"/api/signals/stats/?pair={p}" for p in dataset.PAIR_NAMES[:10]]
        script = harness.workdir / "soak.lua"
        script.write_text(
            soak_lua(reads, data.id_range, data.staff_token, data.trader_token)
        )
        done, pids_end = self.run(script)
        lines = machine(
            harness.redis_url, data.versions["PostgreSQL"], load_before, load_average()
        )
        text = soak_report(
            parse_wrk(done.stdout),
            self.samples,
            pids_end,
            started=harness.started,
            machine_lines=lines,
            signals=SIGNALS,
            connections=self.connections,
            minutes=self.minutes,
        )
        print("\n" + text)
        if write:
            write_section(ROOT / "BENCHMARKS.md", text, HEADING)
            harness.log("BENCHMARKS.md updated")
        return text

    def run(self, script: Path) -> tuple[subprocess.CompletedProcess, set[int]]:
        """wrk against the production server, sampled; the worker pids at the end."""
        env = self.harness.server_env(cache=True)
        env.update(BIND=f"{HOST}:{APP_PORT}", DB_POOL_SIZE=str(POOL),
                   DB_MAX_OVERFLOW=str(OVERFLOW))  # fmt: skip
        seconds = self.minutes * 60
        self.harness.log(f"soak: {self.connections} connections for {self.minutes} min")
        stop = threading.Event()
        with self.harness.server("soak", [GUNICORN], env, APP_PORT,
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
            pids_end = {w.pid for w in psutil.Process(master.pid).children()}
        return done, pids_end


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
