"""Benchmark `manage.py import_candles` on PostgreSQL against a bare COPY of the file.

    DATABASE_URL=postgres://app:app@127.0.0.1:55432/alphaforge \\
        .venv/bin/python bench/import_candles.py [--rows 1000000]

Writes a random-walk CSV of generic layout into a temporary directory, migrates the
database, then times:
  1. the command on an empty series (every row new);
  2. the command again on the same file (every row already present);
  3. the floor: one psycopg COPY of the file (PostgreSQL parses the CSV) into a plain
     table with the candle columns, no indexes or constraints, then dropped.
Only the benchmark's own pair is deleted from the candle table.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIR = "BENCH/IMPORT"
TIMEFRAME = "1m"
FLOOR_TABLE = "bench_candle_copy_floor"


def csv_write(path: Path, rows: int, seed: int = 7) -> None:
    """A 1-minute random walk in the generic layout, ISO 8601 UTC timestamps."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    price = 1.1
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("timestamp,open,high,low,close,volume\n")
        lines = []
        for minute in range(rows):
            open_ = price
            close = max(0.01, open_ + rng.gauss(0, 0.0004))
            high = max(open_, close) + abs(rng.gauss(0, 0.0002))
            low = max(0.005, min(open_, close) - abs(rng.gauss(0, 0.0002)))
            stamp = (start + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines.append(
                f"{stamp},{open_:.5f},{high:.5f},{low:.5f},{close:.5f},"
                f"{rng.randint(1, 5000)}\n"
            )
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
            price = close
        out.writelines(lines)


def command_time(path: Path) -> tuple[float, str]:
    from django.core.management import call_command

    out = StringIO()
    started = time.perf_counter()
    call_command(
        "import_candles", str(path), pair=PAIR, timeframe=TIMEFRAME, stdout=out
    )
    elapsed = time.perf_counter() - started
    return elapsed, out.getvalue().strip().splitlines()[-1]


def floor_time(path: Path) -> float:
    """A bare COPY of the same file into a plain table: what the server alone costs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(
            f"CREATE TABLE {FLOOR_TABLE} (timestamp timestamptz, open numeric(20, 8), "
            "high numeric(20, 8), low numeric(20, 8), close numeric(20, 8), "
            "volume numeric(24, 8))"
        )
        started = time.perf_counter()
        with connection.cursor() as copy_cursor, path.open("rb") as source:
            sql = f"COPY {FLOOR_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)"
            with copy_cursor.cursor.copy(sql) as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute(f"SELECT count(*) FROM {FLOOR_TABLE}")
        copied = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
    print(f"floor COPY rows: {copied:,}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql")):
        print(
            "This benchmark measures the PostgreSQL COPY path: set DATABASE_URL to a "
            "PostgreSQL database, e.g. start one with scripts/services.sh and use "
            "DATABASE_URL=$TEST_DATABASE_URL.",
            file=sys.stderr,
        )
        return 2

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from market.models import Candle

    call_command("migrate", verbosity=0)
    Candle.objects.filter(pair=PAIR).delete()

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "candles.csv"
        started = time.perf_counter()
        csv_write(path, rows)
        size = path.stat().st_size / 1e6
        print(
            f"generated {rows:,} rows ({size:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        first, summary = command_time(path)
        print(
            f"import_candles, empty series: {first:.2f} s  ({rows / first:,.0f} rows/s)"
        )
        print(f"  {summary}")
        again, summary = command_time(path)
        print(
            f"import_candles, all present:  {again:.2f} s  ({rows / again:,.0f} rows/s)"
        )
        print(f"  {summary}")
        floor = floor_time(path)
        print(
            f"bare COPY floor:              {floor:.2f} s  ({rows / floor:,.0f} rows/s)"
        )
        print(f"ratio import / floor: {first / floor:.1f}x")
    Candle.objects.filter(pair=PAIR).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
