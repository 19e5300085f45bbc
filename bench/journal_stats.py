"""Journal statistics on PostgreSQL: the stats queries against a plain aggregate.

    DATABASE_URL=postgres://… python bench/journal_stats.py [N] [--keep]

Creates N (default 100,000) journal entries for one user with bulk_create, rebuilds
the owner's maintained statistics (journal.rollup: the load bypassed the services),
runs ANALYZE, then times, uncached (the queryset method itself):
- new: `JournalEntry.objects.for_owner(user).stats()`, the totals answered from the
  rollup and the running columns, then the breakdowns' statement;
- old: the same with a no-op filter (`id >= 0`), which takes the window-function
  statements every filtered request still runs;
and, as a floor, the same rows' plain `SELECT count(*), sum(pnl) … WHERE owner_id = …`.
Each figure is the median of 10 runs after one warm-up. The bench user and its
entries are deleted afterwards unless --keep is given.
"""

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    sys.exit(
        "bench/journal_stats.py measures PostgreSQL: set DATABASE_URL=postgres://… "
        "(for example a throw-away server from scripts/services.sh) and migrate it."
    )

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.batch_sql import MAX_BIND_PARAMS  # noqa: E402
from journal.models import JournalEntry  # noqa: E402
from journal.rollup import rollup_rebuild  # noqa: E402
from journal.services import account_default, entry_derive  # noqa: E402

RUNS = 10
USERNAME = "bench-journal"
PAIRS = ["EUR/USD", "GBP/USD", "USD/JPY", "AUD/USD", "USD/CHF", "BTC/USDT"]
START = datetime(2020, 1, 1, tzinfo=UTC)


def make(owner_id: int, n: int) -> list[JournalEntry]:
    """A seeded, plausible journal: 90% closed, some same-minute closes, some pnl."""
    rng = random.Random(42)
    now = timezone.now()
    account = account_default(owner_id=owner_id)
    entries = []
    for i in range(n):
        pair = PAIRS[i % len(PAIRS)]
        base = Decimal("150") if pair.endswith("JPY") else Decimal("1.1")
        entry_price = base + Decimal(rng.randint(-5000, 5000)) / 100000
        stop = entry_price - Decimal(rng.randint(1, 300)) / 100000
        opened = START + timedelta(minutes=30 * i + rng.randint(0, 20))
        entry = JournalEntry(
            owner_id=owner_id,
            account=account,
            pair=pair,
            direction="buy",
            entry_price=entry_price,
            stop_loss=stop if i % 7 else None,
            quantity=Decimal(rng.randint(1, 100)) * 1000,
            opened_at=opened,
            setup=rng.choice(["breakout", "pullback", "range", ""]),
            created_at=now,
            updated_at=now,
        )
        if i % 10:
            entry.exit_price = entry_price + Decimal(rng.randint(-400, 450)) / 100000
            entry.closed_at = opened + timedelta(minutes=rng.choice([0, 15, 60, 240]))
            if i % 13 == 0:
                entry.gross_pnl = Decimal(rng.randint(-900, 900))
                entry.pnl_manual = True
        entries.append(entry_derive(entry))
    return entries


def median_ms(run: Callable[[], Any]) -> float:
    run()  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 100_000))
    keep = "--keep" in sys.argv
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    JournalEntry.objects.filter(owner=user).delete()
    started = time.perf_counter()
    entries = make(user.id, n)
    size = MAX_BIND_PARAMS // len(JournalEntry._meta.concrete_fields)
    with transaction.atomic():
        JournalEntry.objects.bulk_create(entries, batch_size=size)
    print(f"created {n:,} entries in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with transaction.atomic():
        rollup_rebuild(owner_id=user.id)
    print(f"rebuilt the maintained stats in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE journal_journalentry")
        cursor.execute("ANALYZE journal_journalrollup")

    queries: list[tuple[float, str]] = []  # the statements of one stats() call

    def timed(execute: Callable, sql: str, params: Any, many: bool, context: Any):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - began) * 1000, sql))

    entries_qs = JournalEntry.objects.for_owner(user.id)
    old_qs = entries_qs.filter(id__gte=0)
    with connection.execute_wrapper(timed):
        stats = old_qs.stats()
    if stats != entries_qs.stats():
        sys.exit("the maintained stats differ from the statements' answer")
    stats_ms = median_ms(lambda: old_qs.stats())
    new_ms = median_ms(lambda: entries_qs.stats())

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(pnl) FROM journal_journalentry "
                "WHERE owner_id = %s",
                [user.id],
            )
            cursor.fetchone()

    floor_ms = median_ms(floor)
    print(
        f"stats of {stats['total_trades']:,} entries "
        f"({stats['closed_trades']:,} closed), medians over {RUNS} runs:\n"
        f"  old, window statements ({len(queries)} queries): {stats_ms:.1f} ms"
    )
    for n, (ms, sql) in enumerate(queries, 1):  # the totals', then the breakdowns'
        print(f"  query {n}: {ms:7.1f} ms (one run) {sql[:60]!r}")
    print(
        f"floor, SELECT count(*), sum(pnl) of the same rows: median {floor_ms:.1f} ms"
    )
    print(f"new, maintained totals and the breakdowns: {new_ms:.1f} ms")
    print(f"ratio old / floor: {stats_ms / floor_ms:.2f}x")
    print(f"ratio new / floor: {new_ms / floor_ms:.2f}x")
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    if not keep:
        JournalEntry.objects.filter(owner=user).delete()  # accounts protect them
        user.delete()


if __name__ == "__main__":
    main()
