from typing import Any

from django.db import models
from django.db.models import (
    Avg,
    Case,
    Count,
    FloatField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from .choices import Outcome, Status

MINIMAL_FIELDS = (
    "id",
    "pair",
    "timeframe",
    "direction",
    "entry_price",
    "stop_loss",
    "take_profit",
    "confidence",
    "status",
    "outcome",
    "timestamp",
)
CALIBRATION_BUCKETS = 10


def _number(value: Any) -> float | None:
    """Aggregates come back as Decimal, int or float depending on the backend."""
    return None if value is None else float(value)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _stats_aggregates(confidence: Any) -> dict[str, Any]:
    """One aggregate query's worth of the stats: totals, counts by status and
    outcome, the Brier score and the calibration buckets' wins and losses."""
    decided = Q(outcome__in=(Outcome.WIN, Outcome.LOSS))
    aggregates: dict[str, Any] = {
        "total": Count("id"),
        "avg_confidence": Avg(confidence),
        "total_pips": Coalesce(Sum(Cast("pips", FloatField())), Value(0.0)),
        "brier": Avg(
            Case(
                When(
                    outcome=Outcome.WIN,
                    then=(confidence / 100.0 - 1.0) * (confidence / 100.0 - 1.0),
                ),
                default=(confidence / 100.0) * (confidence / 100.0),
                output_field=FloatField(),
            ),
            filter=decided,
        ),
    }
    for value in Status.values:
        aggregates[f"status_{value}"] = Count("id", filter=Q(status=value))
    for value in Outcome.values:
        aggregates[f"outcome_{value}"] = Count("id", filter=Q(outcome=value))
    for bucket in range(CALIBRATION_BUCKETS):
        low = bucket * 10
        in_bucket = Q(confidence__gte=low) & (
            Q(confidence__lte=100) if bucket == 9 else Q(confidence__lt=low + 10)
        )
        aggregates[f"b{bucket}_wins"] = Count(
            "id", filter=in_bucket & Q(outcome=Outcome.WIN)
        )
        aggregates[f"b{bucket}_losses"] = Count(
            "id", filter=in_bucket & Q(outcome=Outcome.LOSS)
        )
    return aggregates


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


class SignalQuerySet(models.QuerySet):
    def for_list(self) -> "SignalQuerySet":
        """Only the minimal form's columns (newest first by the model's ordering)."""
        return self.only(*MINIMAL_FIELDS)

    def for_pair(self, pair: str) -> "SignalQuerySet":
        return self.filter(pair=pair)

    def active(self) -> "SignalQuerySet":
        return self.filter(status=Status.ACTIVE)

    def resolved(self) -> "SignalQuerySet":
        return self.filter(outcome__in=(Outcome.WIN, Outcome.LOSS))

    def stats(self) -> dict[str, Any]:
        """The contract's stats object in two queries: an aggregate and a GROUP BY."""

        confidence = Cast("confidence", FloatField())
        row = self.order_by().aggregate(**_stats_aggregates(confidence))

        by_pair_rows = (
            self.order_by()
            .values("pair")
            .annotate(
                total=Count("id"),
                wins=Count("id", filter=Q(outcome=Outcome.WIN)),
                losses=Count("id", filter=Q(outcome=Outcome.LOSS)),
                avg_confidence=Avg(confidence),
                total_pips=Coalesce(Sum(Cast("pips", FloatField())), Value(0.0)),
            )
            .order_by("pair")
        )
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
            "calibration": {
                "brier_score": _number(row["brier"]),
                "buckets": _calibration_buckets(row),
            },
        }
