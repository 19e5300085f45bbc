"""Generation on Celery workers: 1,000 pairs x 500 candles, here vs 1 and 2 workers.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/pipeline.py [--pairs N]

Loads N synthetic pairs (a random walk, 500 hourly candles each), then generates on
their latest candle three ways, each on the same candles with the signals deleted in
between: in this process (`signals_generate`, the floor: no broker, no fan-out), and
through the broker (`signals.generate`, chunks of GENERATION_CHUNK_SIZE pairs) with one
and with two worker processes. Reports pairs/s and the speed-up, and writes a section
of BENCHMARKS.md. Workers are started and stopped here; loopback only.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench.report import write_section  # noqa: E402
from bench.servers import load_average  # noqa: E402
from bench.workers import workers_start, workers_stop  # noqa: E402
from market.models import Candle  # noqa: E402
from signals.generation import signals_generate  # noqa: E402
from signals.models import Signal  # noqa: E402

CANDLES = 500
START = datetime(2025, 1, 1, tzinfo=UTC)
HEADING = "## Pipeline on workers (bench/pipeline.py)"


def load(pairs: list[str]) -> None:
    """N pairs × CANDLES candles with one COPY-like bulk insert per 100 pairs."""
    rng = np.random.default_rng(7)
    batch: list[Candle] = []
    for pair in pairs:
        close = 1.1 * np.exp(np.cumsum(rng.normal(0.0002, 0.002, CANDLES)))
        opens = np.concatenate(([1.1], close[:-1]))
        spread = np.abs(rng.normal(0, 0.001, CANDLES))
        high, low = (
            np.maximum(opens, close) * (1 + spread),
            np.minimum(opens, close) * (1 - spread),
        )
        batch += [
            Candle(
                pair=pair,
                timeframe="1h",
                timestamp=START + timedelta(hours=n),
                open=round(opens[n], 5),
                high=round(high[n], 5),
                low=round(low[n], 5),
                close=round(close[n], 5),
            )
            for n in range(CANDLES)
        ]
        if len(batch) >= 50_000:
            Candle.objects.bulk_create(batch, batch_size=5000)
            batch = []
    Candle.objects.bulk_create(batch, batch_size=5000)


def timed_on_workers(pairs: list[str], expected: int) -> float:
    """Seconds from sending the run to the last of its signals being stored."""
    app = Celery(broker=settings.CELERY_BROKER_URL)
    started = time.perf_counter()
    app.send_task("signals.generate", args=("1h", pairs))
    deadline = started + 600
    while Signal.objects.filter(pair__in=pairs).count() < expected:
        if time.perf_counter() > deadline:
            raise SystemExit("the workers did not finish within 10 minutes")
        time.sleep(0.05)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("Set DATABASE_URL (PostgreSQL, migrated) and REDIS_URL.")
    pairs = [f"P{n:04d}/USD" for n in range(args.pairs)]
    Signal.objects.filter(pair__in=pairs).delete()
    Candle.objects.filter(pair__in=pairs).delete()
    load(pairs)
    started = time.perf_counter()
    expected = len(signals_generate(pairs=pairs, timeframe="1h").generated)
    in_process = time.perf_counter() - started
    rows = [("in this process (floor)", in_process)]
    log_dir = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    log_dir.mkdir(exist_ok=True)
    for count in (1, 2):
        Signal.objects.filter(pair__in=pairs).delete()
        procs = workers_start(count, concurrency=1, name="bench", log_dir=log_dir)
        try:
            rows.append(
                (f"{count} worker process(es)", timed_on_workers(pairs, expected))
            )
        finally:
            workers_stop(procs)
    Signal.objects.filter(pair__in=pairs).delete()
    Candle.objects.filter(pair__in=pairs).delete()
    lines = [
        f"{args.pairs} pairs × {CANDLES} candles, {expected} signals a run, chunks of "
        f"{settings.GENERATION_CHUNK_SIZE} pairs; load average {load_average()}.",
        "",
        "| run | seconds | pairs/s | vs in-process |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in rows:
        lines.append(
            f"| {name} | {seconds:.2f} | {args.pairs / seconds:,.0f} | "
            f"{in_process / seconds:.2f}× |"
        )
    text = "\n".join([HEADING, "", *lines])
    print(text)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text, HEADING)


if __name__ == "__main__":
    main()
