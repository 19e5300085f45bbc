"""The contract's stats object of signals, from the aggregate row that both the
scan (`SignalQuerySet.stats`) and the rollup (`SignalRollupQuerySet.stats`) produce:
totals, counts by status and outcome, the Brier score and the calibration buckets'
wins and losses, and the rows by pair."""

from collections.abc import Iterable
from typing import Any

from .calibration_quality import calibration_quality
from .choices import Outcome, Status

CALIBRATION_BUCKETS = 10


def _number(value: Any) -> float | None:
    """Aggregates come back as Decimal, int or float depending on the backend."""
    return None if value is None else float(value)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _calibration_buckets(row: dict[str, Any]) -> list[dict[str, Any]]:
    buckets = []
    for bucket in range(CALIBRATION_BUCKETS):
        b_wins, b_losses = row[f"b{bucket}_wins"], row[f"b{bucket}_losses"]
        buckets.append(
            {
                "min_confidence": bucket * 10,
                "max_confidence": bucket * 10 + 10,
                "signals": b_wins + b_losses,
                "wins": b_wins,
                "losses": b_losses,
                "win_rate": _ratio(b_wins, b_wins + b_losses),
            }
        )
    return buckets


def stats_shape(row: dict[str, Any], by_pair_rows: Iterable[dict]) -> dict[str, Any]:
    """The contract's stats object from the aggregate row and the rows by pair."""
    wins, losses = row["outcome_win"], row["outcome_loss"]
    return {
        "total": row["total"],
        "by_status": {value: row[f"status_{value}"] for value in Status.values},
        "by_outcome": {value: row[f"outcome_{value}"] for value in Outcome.values},
        "win_rate": _ratio(wins, wins + losses),
        "avg_confidence": _number(row["avg_confidence"]),
        "total_pips": _number(row["total_pips"]),
        "by_pair": [
            {
                "pair": item["pair"],
                "total": item["total"],
                "wins": item["wins"],
                "losses": item["losses"],
                "win_rate": _ratio(item["wins"], item["wins"] + item["losses"]),
                "avg_confidence": _number(item["avg_confidence"]),
                "total_pips": _number(item["total_pips"]),
            }
            for item in by_pair_rows
        ],
        "calibration": _calibration(row),
    }


def _calibration(row: dict[str, Any]) -> dict[str, Any]:
    buckets = _calibration_buckets(row)
    brier = _number(row["brier"])
    sums = [float(row[f"b{b}_c"] or 0) for b in range(CALIBRATION_BUCKETS)]
    return {
        "brier_score": brier,
        **calibration_quality(brier, buckets, sums),
        "buckets": buckets,
    }
