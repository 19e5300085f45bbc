"""Signal stats on PostgreSQL: the rollup against the scan it replaces and its floor.

    DATABASE_URL=postgres://… python bench/signal_stats.py [N]

Into an empty signals table (a migrated throw-away database), loads bench/dataset.py's
N signals (default 1,000,000: 30 pairs, one an hour each), which recounts the rollup,
then ANALYZE. Times, for all signals and for one pair, the median of a few runs after
one warm-up, all in this run:
- floor: one bare `SELECT count(*), avg(confidence), sum(pips)` over the same rows
  (a scan can do no better than one pass);
- scan: `SignalQuerySet.stats()` as it answered before the rollup (two statements);
- rollup: `stats(filters=…)`, the path /api/signals/stats/ takes now.
Checks the rollup's answer against the scan's, and prints the rollup's row count and
the load average (the machine may be shared).
"""

import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

URL = os.environ.get("DATABASE_URL", "")
if not URL.startswith(("postgres://", "postgresql://")):
    sys.exit("bench/signal_stats.py measures PostgreSQL: set DATABASE_URL=postgres://…")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench import dataset  # noqa: E402
from signals.models import Signal, SignalRollup  # noqa: E402

PAIR = "EUR/USD"
FLOOR_SQL = "SELECT count(*), avg(confidence), sum(pips) FROM signals_signal"


def timed(run: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of `runs` calls after one warm-up, and the last answer."""
    answer = run()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), answer


def floor(where: str, params: list) -> Callable[[], Any]:
    def run() -> Any:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL + where, params)
            return cursor.fetchone()

    return run


def same(mine: Any, theirs: Any) -> bool:
    if isinstance(theirs, dict):
        return mine.keys() == theirs.keys() and all(
            same(mine[key], theirs[key]) for key in theirs
        )
    if isinstance(theirs, list):
        return len(mine) == len(theirs) and all(map(same, mine, theirs))
    if isinstance(theirs, float):
        return math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-9)
    return mine == theirs


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if not Signal.objects.exists():
        started = time.monotonic()
        dataset.load_signals(URL, signals=count)
        print(f"loaded {count:,} signals in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE signals_signal")
        cursor.execute("ANALYZE signals_signalrollup")
    print(
        f"signals: {Signal.objects.count():,}; "
        f"rollup rows: {SignalRollup.objects.count():,}"
    )
    cases = [
        ("all", Signal.objects.all(), {}, floor("", [])),
        (
            "one pair",
            Signal.objects.filter(pair=PAIR),
            {"pair": [PAIR]},
            floor(" WHERE pair = %s", [PAIR]),
        ),
    ]
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    print("case       floor ms   scan ms  rollup ms  floor/rollup  scan/rollup  equal")
    for name, queryset, filters, bare in cases:
        floor_s, _ = timed(bare, 3)
        scan_s, scan = timed(queryset.stats, 3)
        rollup_s, answer = timed(lambda q=queryset, f=filters: q.stats(filters=f), 20)
        print(
            f"{name:9} {floor_s * 1000:9.1f} {scan_s * 1000:9.1f} "
            f"{rollup_s * 1000:10.2f} {floor_s / rollup_s:12.0f}× "
            f"{scan_s / rollup_s:11.0f}×  {same(answer, scan)}"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
