"""The unfiltered statistics of one owner from what the writes maintain (PostgreSQL).

One statement: the rollup buckets (journal.rollup) summed three ways with GROUPING
SETS (all, per pair, per month), and MAX(drawdown), MAX(streak), MIN(streak) of the
owner's entries, each one probe of its (owner, …) index. The rows have the shape of
the window-function statements' rows (window_stats.py), so `stats_answer` shapes
both alike.
"""

from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models.lookups import Exact

from .rollup import ENTRY, ROLLUP, maintained

SUMS = (
    "entries",
    "closed",
    "wins",
    "losses",
    "breakevens",
    "total_pnl",
    "total_fees",
    "total_swap",
    "total_gross",
    "gross_profit",
    "gross_loss",
    "win_pnl",
    "loss_pnl",
    "total_pips",
    "r_count",
    "r_sum",
    "r_squares",
)
STATS_SQL = f"""
SELECT GROUPING(pair, month) AS level, pair, month,
       {", ".join(f"SUM({name}) AS {name}" for name in SUMS)},
       MAX(largest_win) AS largest_win, MIN(largest_loss) AS largest_loss,
       MIN(r_min) AS r_min, MAX(r_max) AS r_max,
       (SELECT MAX(drawdown) FROM {ENTRY} WHERE owner_id = %(owner)s) AS drawdown,
       (SELECT MAX(streak) FROM {ENTRY} WHERE owner_id = %(owner)s) AS win_streak,
       (SELECT MIN(streak) FROM {ENTRY} WHERE owner_id = %(owner)s) AS loss_streak
FROM {ROLLUP}
WHERE owner_id = %(owner)s
GROUP BY GROUPING SETS ((), (pair), (month))
"""
ALL, BY_PAIR, BY_MONTH = 3, 1, 2  # GROUPING(pair, month): a bit per grouped-out key


def unfiltered_owner(queryset: Any) -> int | None:
    """The owner id when the queryset is exactly `for_owner(id)` and nothing else
    (no other filter, no slice), so the maintained state answers it; else None."""
    query = queryset.query
    where = query.where
    if not maintained() or query.is_sliced or query.distinct or where.negated:
        return None
    if len(where.children) != 1 or not isinstance(where.children[0], Exact):
        return None
    lookup = where.children[0]
    field = getattr(lookup.lhs, "target", None)
    if field is None or field.name != "owner" or field.model is not query.model:
        return None
    return lookup.rhs if type(lookup.rhs) is int else None


def _square_deviations(row: dict[str, Any]) -> Decimal | None:
    """Σ(r − mean)² = Σr² − (Σr)²/n, exactly (the sums are exact numerics)."""
    if not row["r_count"]:
        return None
    exact = Fraction(row["r_squares"]) - Fraction(row["r_sum"]) ** 2 / row["r_count"]
    with localcontext() as context:
        context.prec = 60
        return Decimal(exact.numerator) / Decimal(exact.denominator)


def owner_stats_rows(owner_id: int) -> tuple[dict, list[dict], list[dict]]:
    """The summary, per-pair and per-month rows of the owner's unfiltered stats."""
    with connection.cursor() as cursor:
        cursor.execute(STATS_SQL, {"owner": owner_id})
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    summary = next(row for row in rows if row["level"] == ALL)
    summary |= {
        "total_trades": summary["entries"],
        "closed_trades": summary["closed"],
        "r_square_deviations": _square_deviations(summary),
        "max_drawdown": summary["drawdown"],
        "longest_win_streak": max(summary["win_streak"] or 0, 0),
        "longest_loss_streak": max(-(summary["loss_streak"] or 0), 0),
    }
    pairs = [
        {**row, "trades": row["closed"]} for row in rows if row["level"] == BY_PAIR
    ]
    months = sorted(
        (
            {**row, "trades": row["closed"]}
            for row in rows
            if row["level"] == BY_MONTH and row["month"]
        ),
        key=lambda row: row["month"],
    )
    return summary, pairs, months
