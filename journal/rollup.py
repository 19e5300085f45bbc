"""The journal statistics kept up to date by the writes: running columns and rollup.

Every journal write (journal.services) calls `rollup_refresh` inside its transaction
with the (pair, closed_at, id) of each row it touched, old and new values alike. Two
things follow, under a lock on the owner's user row so concurrent writes of one owner
take turns:

- the running columns (equity, peak, drawdown, streak) of the owner's closed entries
  are recomputed from the earliest touched closing key on (the suffix: an entry
  closed in order touches one row; one closed earlier than the latest, an edit or a
  delete, every later one), starting from the state of the entry just before;
- the rollup buckets (owner × pair × UTC month) of the touched pairs are rebuilt
  from their entries with one INSERT … SELECT … GROUP BY.

PostgreSQL only: SQLite keeps decimals as doubles, so sums stored there would not be
exact; there the stats always run the window-function statements (querysets.py).
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, localcontext

from django.contrib.auth import get_user_model
from django.db import connection

from core.batch_sql import arrays_update

from .trade import LOSS, WIN

Touched = tuple[str, datetime | None, int]  # (pair, closed_at, id) of a written row
ENTRY = "journal_journalentry"
ROLLUP = "journal_journalrollup"
# The running columns, as running_refresh writes them (after the id).
RUNNING_COLUMNS = (
    ("equity", "numeric"),
    ("peak", "numeric"),
    ("drawdown", "numeric"),
    ("streak", "integer"),
)


def maintained() -> bool:
    """Whether this database keeps the running columns and the rollup."""
    return connection.vendor == "postgresql"


def rollup_lock(owner_id: int) -> None:
    """Serialise the maintained state of one owner: take before any other row lock."""
    if maintained():
        users = get_user_model().objects.select_for_update()
        list(users.filter(pk=owner_id).values_list("pk"))


def rollup_refresh(*, owner_id: int, touched: Iterable[Touched]) -> None:
    """Bring the owner's running columns and rollup up to date after a write."""
    if not maintained():
        return
    touched = list(touched)
    starts = [(closed, pk) for _, closed, pk in touched if closed is not None]
    if starts:
        running_refresh(owner_id=owner_id, start=min(starts))
    pairs = {pair for pair, _, _ in touched}
    if pairs:
        buckets_refresh(owner_id=owner_id, pairs=pairs)


def rollup_rebuild(*, owner_id: int) -> None:
    """Recompute everything of one owner (after a load that bypassed the services)."""
    if maintained():
        rollup_lock(owner_id)
        running_refresh(owner_id=owner_id, start=None)
        buckets_refresh(owner_id=owner_id, pairs=None)


def rollup_rebuild_all() -> None:
    """Recompute every owner's state (the data migration, `recompute_journal`)."""
    if not maintained():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT owner_id FROM {ENTRY}")
        owners = [row[0] for row in cursor.fetchall()]
    for owner_id in owners:
        rollup_rebuild(owner_id=owner_id)


def _next(streak: int, outcome: str) -> int:
    if outcome == WIN:
        return streak + 1 if streak > 0 else 1
    if outcome == LOSS:
        return streak - 1 if streak < 0 else -1
    return 0


def running_refresh(*, owner_id: int, start: tuple[datetime, int] | None) -> None:
    """Recompute the running columns of closed entries from `start` (closed_at, id)
    on, continuing from the entry just before it; rows already right are left alone."""
    closed = f"FROM {ENTRY} WHERE owner_id = %s AND closed_at IS NOT NULL"
    with connection.cursor() as cursor:
        equity, peak, streak = Decimal(0), Decimal(0), 0
        after, params = "", [owner_id]
        if start is not None:
            cursor.execute(
                f"SELECT equity, peak, streak {closed} AND (closed_at, id) < (%s, %s)"
                " ORDER BY closed_at DESC, id DESC LIMIT 1",
                [owner_id, *start],
            )
            before = cursor.fetchone()
            if before is not None:
                equity, peak, streak = before
            after, params = " AND (closed_at, id) >= (%s, %s)", [owner_id, *start]
        cursor.execute(
            f"SELECT id, pnl, outcome, equity, peak, drawdown, streak {closed}{after}"
            " ORDER BY closed_at, id",
            params,
        )
        changed: list[tuple] = []
        with localcontext() as context:
            context.prec = 60  # sums of 24-digit amounts stay exact
            for pk, pnl, outcome, *stored in cursor.fetchall():
                equity += pnl or 0
                peak = max(peak, equity)
                streak = _next(streak, outcome)
                values = (equity, peak, peak - equity, streak)
                if tuple(stored) != values:
                    changed.append((pk, *values))
    if changed:
        arrays_update(
            table=ENTRY,
            columns=RUNNING_COLUMNS,
            values=[list(column) for column in zip(*changed, strict=True)],
        )


BUCKET_SQL = f"""
INSERT INTO {ROLLUP} (owner_id, pair, month, entries, closed, wins, losses,
    breakevens, total_pnl, total_fees, total_swap, total_gross, gross_profit,
    gross_loss, win_pnl, loss_pnl, largest_win, largest_loss, total_pips, r_count,
    r_sum, r_squares, r_min, r_max)
SELECT owner_id, pair,
       COALESCE(to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM'), ''),
       COUNT(*), COUNT(closed_at),
       COUNT(*) FILTER (WHERE outcome = '{WIN}'),
       COUNT(*) FILTER (WHERE outcome = '{LOSS}'),
       COUNT(*) FILTER (WHERE outcome = 'breakeven'),
       SUM(pnl),
       SUM(fees) FILTER (WHERE closed_at IS NOT NULL),
       SUM(swap) FILTER (WHERE closed_at IS NOT NULL),
       SUM(gross_pnl),
       SUM(pnl) FILTER (WHERE pnl > 0),
       SUM(pnl) FILTER (WHERE pnl < 0),
       SUM(pnl) FILTER (WHERE outcome = '{WIN}'),
       SUM(pnl) FILTER (WHERE outcome = '{LOSS}'),
       MAX(pnl) FILTER (WHERE outcome = '{WIN}'),
       MIN(pnl) FILTER (WHERE outcome = '{LOSS}'),
       SUM(pips),
       COUNT(r_multiple) FILTER (WHERE closed_at IS NOT NULL),
       SUM(r_multiple) FILTER (WHERE closed_at IS NOT NULL),
       SUM(r_multiple * r_multiple) FILTER (WHERE closed_at IS NOT NULL),
       MIN(r_multiple) FILTER (WHERE closed_at IS NOT NULL),
       MAX(r_multiple) FILTER (WHERE closed_at IS NOT NULL)
FROM {ENTRY}
WHERE owner_id = %s {{pairs}}
GROUP BY owner_id, pair, 3
"""


def buckets_refresh(*, owner_id: int, pairs: set[str] | None) -> None:
    """Rebuild the owner's rollup buckets of these pairs (of all pairs: None)."""
    only, params = "", [owner_id]
    if pairs is not None:
        only, params = "AND pair = ANY(%s)", [owner_id, sorted(pairs)]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ROLLUP} WHERE owner_id = %s {only}", params)
        cursor.execute(BUCKET_SQL.format(pairs=only), params)
