"""What the journal admin's charts draw for one user's entries (reads only)."""

from typing import Any

from .querysets import JournalEntryQuerySet

R_BUCKET = 0.5
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _bar(value: float | None, widest: float) -> float:
    return round(abs(value or 0) / widest * 100, 1) if widest else 0


def _one_per_second(curve: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Chart points in time order; of trades closed in the same second the last
    one's value (the chart needs strictly increasing times)."""
    points: list[dict[str, Any]] = []
    for row in curve:
        point = {"time": int(row["closed_at"].timestamp()), "value": row[key]}
        if points and points[-1]["time"] == point["time"]:
            points[-1] = point
        else:
            points.append(point)
    return points


def _contiguous(buckets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every bucket from the lowest to the highest, empty ones as 0: the chart
    spaces bars by their rank, so a gap must be a bar of its own."""
    counts = {int(row["bucket"]): row["trades"] for row in buckets}
    if not counts:
        return []
    return [
        {"time": bucket * R_BUCKET, "value": counts.get(bucket, 0)}
        for bucket in range(min(counts), max(counts) + 1)
    ]


def journal_charts(entries: JournalEntryQuerySet) -> dict[str, Any]:
    """Equity and drawdown, the R-multiple histogram, results by setup and by
    weekday and hour: SQL aggregates (and one window sum) over `entries`."""
    curve = entries.equity_curve()
    setups = entries.by_setup()
    widest = max((abs(row["total_pnl"] or 0) for row in setups), default=0)
    cells = {(row["weekday"], row["hour"]): row for row in entries.by_weekday_hour()}
    hottest = max((abs(row["total_pnl"] or 0) for row in cells.values()), default=0)
    heat = []
    for number, name in enumerate(WEEKDAYS, start=1):
        hours = []
        for hour in range(24):
            row = cells.get((number, hour))
            pnl = None if row is None else row["total_pnl"] or 0
            hours.append(
                {
                    "hour": hour,
                    "trades": 0 if row is None else row["trades"],
                    "wins": 0 if row is None else row["wins"],
                    "total_pnl": pnl,
                    # Cell colour strength, 0 to 1, by |pnl| against the largest.
                    "strength": 0 if not pnl else round(abs(pnl) / hottest, 2),
                }
            )
        heat.append({"weekday": name, "hours": hours})
    return {
        "chart": {
            "equity": _one_per_second(curve, "equity"),
            "drawdown": _one_per_second(curve, "drawdown"),
            "r_histogram": _contiguous(entries.r_histogram(R_BUCKET)),
        },
        "setups": [
            {
                **row,
                "win_rate_percent": round(row["wins"] / row["trades"] * 100, 1),
                "pnl_bar": _bar(row["total_pnl"], widest),
            }
            for row in setups
        ],
        "heat": heat,
        "r_bucket": R_BUCKET,
    }
