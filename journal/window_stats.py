"""The journal statistics of any selection of entries, from window-function
statements over its closed trades (`window_stats`), and the contract's object shaped
from their rows (`stats_answer`), which also shapes the rows of the state the writes
maintain (journal.rollup_stats). `JournalEntryQuerySet.stats` picks the source.

Money and pips are summed exactly: numeric on PostgreSQL, integer units on SQLite.
"""

from collections.abc import Sequence
from decimal import Decimal, localcontext
from typing import Any

from django.db import connection

from .trade import BREAKEVEN, LOSS, PIPS_PLACES, PNL_PLACES, WIN

# SQLite sums integers exactly up to 2**63 − 1; stay clear of it.
SQLITE_INTEGER_LIMIT = 9 * 10**18
# The month of closed_at in UTC: the GROUP BY key, and its "YYYY-MM" label.
MONTH_SQL = {
    "postgresql": "date_trunc('month', closed_at AT TIME ZONE 'UTC')",
    # Django keeps SQLite date-times as UTC text; %% because the query has parameters.
    "sqlite": "strftime('%%Y-%%m', closed_at)",
}
MONTH_LABEL_SQL = {
    "postgresql": f"to_char({MONTH_SQL['postgresql']}, 'YYYY-MM')",
    "sqlite": MONTH_SQL["sqlite"],
}


def window_stats(base: str, params: Sequence[Any]) -> dict[str, Any]:
    """The contract's statistics of the entries `base` selects (SQL of their
    STATS_COLUMNS, with `params`), in three statements: one for the totals, the
    drawdown (a running sum and peak in closing order) and the streaks (gaps and
    islands), one GROUP BY pair and one GROUP BY month."""
    vendor = connection.vendor
    if vendor not in MONTH_SQL:
        raise NotImplementedError(f"journal stats do not support {vendor}")
    with connection.cursor() as cursor:
        cursor.execute(_summary_sql(base, vendor), params)
        summary = _row_dict(cursor, cursor.fetchone())
        cursor.execute(_by_pair_sql(base, vendor), params)
        pairs = [_row_dict(cursor, row) for row in cursor.fetchall()]
        cursor.execute(_by_month_sql(base, vendor), params)
        months = [_row_dict(cursor, row) for row in cursor.fetchall()]
    return stats_answer(summary, pairs, months, vendor)


def _row_dict(cursor: Any, row: tuple) -> dict[str, Any]:
    return {
        column[0]: value for column, value in zip(cursor.description, row, strict=True)
    }


def exact(column: str, places: int, vendor: str) -> str:
    """SQL for `column` in a form whose SUM/MIN/MAX are exact.

    PostgreSQL's numeric already is. SQLite holds decimals as doubles and sums doubles
    with rounding, so there the column becomes an integer count of 10**-places units
    (read back by `_units_to_decimal`) — unless the magnitudes add up past what a
    64-bit integer holds, when it stays a double instead of overflowing.
    """
    if vendor == "postgresql":
        return column
    scale = 10**places
    return (
        f"(CASE WHEN (SELECT TOTAL(ABS({column})) FROM closed)"
        f" < {SQLITE_INTEGER_LIMIT // scale}"
        f" THEN CAST(ROUND({column} * {scale}) AS INTEGER)"
        f" ELSE {column} * {scale}.0 END)"
    )


def units_to_decimal(value: Any, places: int, vendor: str) -> Decimal | None:
    if value is None:
        return None
    if vendor == "postgresql":
        return Decimal(value)
    return Decimal(value).scaleb(-places)


def _ctes(base: str, vendor: str) -> str:
    # PostgreSQL would materialise a CTE used twice, in temp files and unordered;
    # inlined, each use reads the (owner, closed_at, id) index in walking order.
    inline = "NOT MATERIALIZED " if vendor == "postgresql" else ""
    return (
        "WITH base (id, pair, outcome, closed_at, pnl, pips, r, fees, swap, gross)"
        f" AS {inline}({base}),\n"
        f"closed AS {inline}(SELECT * FROM base WHERE closed_at IS NOT NULL)"
    )


def _summary_sql(base: str, vendor: str) -> str:
    pnl = exact("pnl", PNL_PLACES, vendor)
    pips = exact("pips", PIPS_PLACES, vendor)
    fees, swap = exact("fees", PNL_PLACES, vendor), exact("swap", PNL_PLACES, vendor)
    gross = exact("gross", PNL_PLACES, vendor)
    return f"""{_ctes(base, vendor)},
totals AS (
    SELECT COUNT(*) AS total_trades,
           COUNT(closed_at) AS closed_trades,
           SUM(CASE WHEN outcome = '{WIN}' THEN 1 ELSE 0 END) AS wins,
           SUM(CASE WHEN outcome = '{LOSS}' THEN 1 ELSE 0 END) AS losses,
           SUM(CASE WHEN outcome = '{BREAKEVEN}' THEN 1 ELSE 0 END) AS breakevens,
           SUM({pnl}) AS total_pnl,
           SUM(CASE WHEN closed_at IS NOT NULL THEN {fees} END) AS total_fees,
           SUM(CASE WHEN closed_at IS NOT NULL THEN {swap} END) AS total_swap,
           SUM({gross}) AS total_gross,
           SUM(CASE WHEN pnl > 0 THEN {pnl} END) AS gross_profit,
           SUM(CASE WHEN pnl < 0 THEN {pnl} END) AS gross_loss,
           SUM(CASE WHEN outcome = '{WIN}' THEN {pnl} END) AS win_pnl,
           SUM(CASE WHEN outcome = '{LOSS}' THEN {pnl} END) AS loss_pnl,
           MAX(CASE WHEN outcome = '{WIN}' THEN {pnl} END) AS largest_win,
           MIN(CASE WHEN outcome = '{LOSS}' THEN {pnl} END) AS largest_loss,
           SUM({pips}) AS total_pips,
           AVG(CASE WHEN closed_at IS NOT NULL THEN r END) AS r_mean
    FROM base
),
running AS (
    -- Closed trades in closing order: equity so far, wins so far, losses so far.
    SELECT closed_at, id, outcome, r,
           SUM({pnl}) OVER walk AS equity,
           SUM(CASE WHEN outcome = '{WIN}' THEN 1 ELSE 0 END) OVER walk AS wins,
           SUM(CASE WHEN outcome = '{LOSS}' THEN 1 ELSE 0 END) OVER walk AS losses
    FROM closed
    WINDOW walk AS (ORDER BY closed_at, id ROWS UNBOUNDED PRECEDING)
),
islands AS (
    -- The running peak of equity (from 0, below), and gaps and islands: the trade
    -- that is not a win ends a win island, so a win's streak is the wins since the
    -- last such trade (likewise for losses; a breakeven ends both).
    SELECT r, equity,
           MAX(equity) OVER walk AS peak,
           CASE WHEN outcome = '{WIN}' THEN wins - COALESCE(
               MAX(CASE WHEN outcome <> '{WIN}' THEN wins END) OVER walk, 0
           ) END AS win_streak,
           CASE WHEN outcome = '{LOSS}' THEN losses - COALESCE(
               MAX(CASE WHEN outcome <> '{LOSS}' THEN losses END) OVER walk, 0
           ) END AS loss_streak
    FROM running
    WINDOW walk AS (ORDER BY closed_at, id ROWS UNBOUNDED PRECEDING)
),
sequence AS (
    -- Squared deviations from the mean (two passes): no cancellation in doubles.
    SELECT MAX(CASE WHEN peak > 0 THEN peak ELSE 0 END - equity) AS max_drawdown,
           MAX(win_streak) AS longest_win_streak,
           MAX(loss_streak) AS longest_loss_streak,
           COUNT(r) AS r_count, SUM(r) AS r_sum, MIN(r) AS r_min, MAX(r) AS r_max,
           SUM((r - r_mean) * (r - r_mean)) AS r_square_deviations
    FROM islands CROSS JOIN (SELECT r_mean FROM totals) AS mean
)
SELECT * FROM totals CROSS JOIN sequence"""


def _by_pair_sql(base: str, vendor: str) -> str:
    pnl = exact("pnl", PNL_PLACES, vendor)
    pips = exact("pips", PIPS_PLACES, vendor)
    return f"""{_ctes(base, vendor)}
SELECT pair,
       COUNT(closed_at) AS trades,
       SUM(CASE WHEN outcome = '{WIN}' THEN 1 ELSE 0 END) AS wins,
       SUM(CASE WHEN outcome = '{LOSS}' THEN 1 ELSE 0 END) AS losses,
       SUM({pnl}) AS total_pnl,
       SUM({pips}) AS total_pips
FROM base
GROUP BY pair"""


def _by_month_sql(base: str, vendor: str) -> str:
    pnl = exact("pnl", PNL_PLACES, vendor)
    return f"""{_ctes(base, vendor)}
SELECT {MONTH_LABEL_SQL[vendor]} AS month,
       COUNT(*) AS trades,
       SUM(CASE WHEN outcome = '{WIN}' THEN 1 ELSE 0 END) AS wins,
       SUM({pnl}) AS total_pnl
FROM closed
GROUP BY {MONTH_SQL[vendor]}
ORDER BY {MONTH_SQL[vendor]}"""


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> float | None:
    if not denominator:
        return None
    with localcontext() as context:
        context.prec = 40
        return float(Decimal(numerator) / Decimal(denominator))


def _sqn(row: dict[str, Any]) -> float | None:
    """√n · mean(R) / stdev(R), sample stdev; null when n < 2 or stdev is 0."""
    count = row["r_count"] or 0
    if count < 2 or row["r_min"] == row["r_max"] or not row["r_square_deviations"]:
        return None
    with localcontext() as context:
        context.prec = 40
        mean = Decimal(row["r_sum"]) / count
        stdev = (Decimal(row["r_square_deviations"]) / (count - 1)).sqrt()
        return float(Decimal(count).sqrt() * mean / stdev)


def stats_answer(
    summary: dict[str, Any] | None,
    pairs: list[dict[str, Any]],
    months: list[dict[str, Any]],
    vendor: str,
) -> dict[str, Any]:
    """Shape the three result sets as the contract's stats object."""
    row = summary or {}

    def money(name: str, source: dict[str, Any] = row) -> Decimal | None:
        return units_to_decimal(source.get(name), PNL_PLACES, vendor)

    total = row.get("total_trades") or 0
    closed = row.get("closed_trades") or 0
    wins, losses = row.get("wins") or 0, row.get("losses") or 0
    total_pnl = money("total_pnl") or Decimal(0)
    gross_profit = money("gross_profit") or Decimal(0)
    gross_loss = -(money("gross_loss") or Decimal(0))
    win_pnl, loss_pnl = money("win_pnl"), money("loss_pnl")
    avg_win = ratio(win_pnl, wins) if win_pnl is not None else None
    avg_loss = ratio(loss_pnl, losses) if loss_pnl is not None else None
    total_pips = units_to_decimal(row.get("total_pips"), PIPS_PLACES, vendor)
    r_count = row.get("r_count") or 0
    return {
        "total_trades": total,
        "open_trades": total - closed,
        "closed_trades": closed,
        "wins": wins,
        "losses": losses,
        "breakevens": row.get("breakevens") or 0,
        "win_rate": ratio(wins, closed),
        "total_pnl": float(total_pnl),
        "total_fees": float(money("total_fees") or 0),
        "total_swap": float(money("total_swap") or 0),
        "gross_pnl": float(money("total_gross") or 0),
        "gross_profit": float(gross_profit),
        "gross_loss": float(gross_loss),
        "profit_factor": ratio(gross_profit, gross_loss),
        "avg_win": avg_win,
        "avg_loss": avg_loss,
        "expectancy": ratio(total_pnl, closed),
        "avg_r_multiple": (ratio(Decimal(row["r_sum"]), r_count) if r_count else None),
        "total_pips": float(total_pips or 0),
        "largest_win": _number(money("largest_win")),
        "largest_loss": _number(money("largest_loss")),
        "max_drawdown": float(money("max_drawdown") or 0),
        "longest_win_streak": row.get("longest_win_streak") or 0,
        "longest_loss_streak": row.get("longest_loss_streak") or 0,
        "payoff_ratio": (
            # avg_win / |avg_loss|, as one division
            ratio(win_pnl * losses, abs(loss_pnl) * wins)
            if win_pnl is not None and loss_pnl is not None
            else None
        ),
        "sqn": _sqn(row) if summary else None,
        "by_pair": [
            {
                "pair": item["pair"],
                "trades": item["trades"] or 0,
                "wins": item["wins"] or 0,
                "losses": item["losses"] or 0,
                "win_rate": ratio(item["wins"] or 0, item["trades"] or 0),
                "total_pnl": float(money("total_pnl", item) or 0),
                "total_pips": float(
                    units_to_decimal(item["total_pips"], PIPS_PLACES, vendor) or 0
                ),
            }
            # Code-point order, the same on every database whatever its collation.
            for item in sorted(pairs, key=lambda item: item["pair"])
        ],
        "by_month": [
            {
                "month": item["month"],
                "trades": item["trades"],
                "wins": item["wins"] or 0,
                "total_pnl": float(money("total_pnl", item) or 0),
            }
            for item in months
        ],
    }
