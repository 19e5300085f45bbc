"""Generation for 30 pairs and outcome backfill of 100,000 signals, on PostgreSQL.

    DATABASE_URL=postgres://… python bench/generation_and_backfill.py

Loads 30 pairs × 1,000 hourly candles (a random walk), times signals_generate over
all pairs (median of 5, each on fresh candles so every run does the full work) with
the process RSS before and after, then stores 100,000 active signals spread over the
candles and times outcomes_backfill over them. Floors measured in the same run: the
bare candle read (the window query alone) for generation, and a plain
UPDATE of the same 100,000 rows for backfill.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from market.models import Candle  # noqa: E402
from market.providers import DatabaseProvider  # noqa: E402
from signals.generation import signals_generate  # noqa: E402
from signals.models import Signal  # noqa: E402
from signals.outcomes import outcomes_backfill  # noqa: E402
from signals.services import signal_derive, signals_rollup_rebuild  # noqa: E402

PAIRS = [f"B{n:02d}/USD" for n in range(30)]
CANDLES = 1000
SIGNALS = 100_000
START = datetime(2024, 1, 1, tzinfo=UTC)


def load_candles(offset_hours: int) -> None:
    rng = np.random.default_rng(offset_hours)
    rows = []
    for pair in PAIRS:
        close = 1.1 * np.exp(np.cumsum(rng.normal(0.0001, 0.002, CANDLES)))
        opens = np.concatenate(([1.1], close[:-1]))
        high = np.maximum(opens, close) * (1 + np.abs(rng.normal(0, 0.001, CANDLES)))
        low = np.minimum(opens, close) * (1 - np.abs(rng.normal(0, 0.001, CANDLES)))
        for n in range(CANDLES):
            rows.append(
                Candle(
                    pair=pair,
                    timeframe="1h",
                    timestamp=START + timedelta(hours=offset_hours + n),
                    open=Decimal(f"{opens[n]:.5f}"),
                    high=Decimal(f"{high[n]:.5f}"),
                    low=Decimal(f"{low[n]:.5f}"),
                    close=Decimal(f"{close[n]:.5f}"),
                )
            )
    Candle.objects.bulk_create(rows, batch_size=5000)


def reset() -> None:
    Signal.objects.filter(pair__in=PAIRS).delete()
    Candle.objects.filter(pair__in=PAIRS).delete()
    signals_rollup_rebuild()  # the deletes above go around the services


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (migrated).")
    process = psutil.Process()
    reset()
    generation, floor, rss = [], [], []
    for run in range(5):
        Candle.objects.filter(pair__in=PAIRS).delete()
        Signal.objects.filter(pair__in=PAIRS).delete()
        load_candles(run * CANDLES)
        started = time.perf_counter()
        DatabaseProvider().windows_sync(PAIRS, "1h", 500)
        floor.append(time.perf_counter() - started)
        before = process.memory_info().rss
        started = time.perf_counter()
        result = signals_generate(pairs=PAIRS, timeframe="1h")
        generation.append(time.perf_counter() - started)
        rss.append(process.memory_info().rss - before)
        print(
            f"run {run}: {len(result.generated)} generated, "
            f"{len(result.skipped)} skipped",
            file=sys.stderr,
        )

    # Backfill: 100,000 active signals on the last run's candles.
    Signal.objects.filter(pair__in=PAIRS).delete()
    candle_times = START + timedelta(hours=4 * CANDLES)
    signals = []
    for n in range(SIGNALS):
        pair = PAIRS[n % len(PAIRS)]
        hour = (n // len(PAIRS)) % (CANDLES - 60)
        direction = "buy" if n % 2 else "sell"
        sign = 1 if direction == "buy" else -1
        entry = Decimal("1.10000")
        signals.append(
            signal_derive(
                Signal(
                    pair=pair,
                    timeframe="1h",
                    direction=direction,
                    strategy=f"b{n}",
                    entry_price=entry,
                    stop_loss=entry - sign * Decimal("0.0040"),
                    take_profit=entry + sign * Decimal("0.0080"),
                    confidence=Decimal(60),
                    timestamp=candle_times + timedelta(hours=hour),
                )
            )
        )
    with transaction.atomic():
        Signal.objects.bulk_create(signals, batch_size=2500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE signals_signal")
    started = time.perf_counter()
    report = outcomes_backfill(batch_size=5000)
    backfill = time.perf_counter() - started
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute(
                "UPDATE signals_signal SET mae_pips = mae_pips WHERE pair = ANY(%s)",
                [PAIRS],
            )
        update_floor = time.perf_counter() - started
    reset()

    median, floor_median = statistics.median(generation), statistics.median(floor)
    print("| scenario | seconds | floor (same run) | ratio | notes |")
    print("|---|---|---|---|---|")
    print(
        f"| generate, 30 pairs × {CANDLES} candles (median of 5) | {median:.3f} | "
        f"{floor_median:.3f} (window read only) | {median / floor_median:.1f}× | "
        f"RSS growth max {max(rss) / 2**20:.1f} MB |"
    )
    print(
        f"| backfill {SIGNALS:,} active signals | {backfill:.2f} | "
        f"{update_floor:.2f} (one plain UPDATE of the rows) | "
        f"{backfill / update_floor:.1f}× | resolved {report.resolved:,}, "
        f"still active {report.still_active:,} |"
    )


if __name__ == "__main__":
    main()
