from collections.abc import Mapping
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
from django.db.models.functions import Cast, Coalesce, TruncDate

from .choices import Outcome, Status
from .rollup_table import SignalRollup
from .stats_shape import CALIBRATION_BUCKETS, stats_shape
from .storage.columns import MINIMAL_FIELDS


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
        aggregates[f"b{bucket}_c"] = Sum(confidence, filter=in_bucket & decided)
    return aggregates


class SignalQuerySet(models.QuerySet):
    def for_list(self) -> "SignalQuerySet":
        """The minimal form's columns as tuples, in MINIMAL_FIELDS order (newest
        first by the model's ordering); signals.storage.forms renders them."""
        return self.values_list(*MINIMAL_FIELDS)

    def for_pair(self, pair: str) -> "SignalQuerySet":
        return self.filter(pair=pair)

    def active(self) -> "SignalQuerySet":
        return self.filter(status=Status.ACTIVE)

    def resolved(self) -> "SignalQuerySet":
        return self.filter(outcome__in=(Outcome.WIN, Outcome.LOSS))

    def pips_by_day(self) -> list[dict[str, Any]]:
        """Pips realised per UTC day of `closed_at` and their running total, in one
        GROUP BY query (the running sum walks the day rows, never the signals)."""
        rows = (
            self.filter(closed_at__isnull=False, pips__isnull=False)
            .order_by()
            .annotate(day=TruncDate("closed_at"))
            .values("day")
            .annotate(pips=Sum(Cast("pips", FloatField())), signals=Count("id"))
            .order_by("day")
        )
        cumulative, days = 0.0, []
        for row in rows:
            cumulative += row["pips"]
            days.append({**row, "cumulative_pips": cumulative})
        return days

    def stats(self, *, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The contract's stats object of these signals. Given `filters`, the cleaned
        SignalFilter data that selected them, the rollup answers in one query when
        it can answer them exactly; else two queries scan the signals."""
        if filters is not None:
            answer = SignalRollup.objects.stats(filters=filters)
            if answer is not None:
                return answer
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
        return stats_shape(row, by_pair_rows)

    def filtered_count(self, *, filters: Mapping[str, Any]) -> int:
        """COUNT of these signals, selected by `filters` (the cleaned SignalFilter
        data): from the rollup when it can answer them, else counted."""
        count = SignalRollup.objects.rollup_count(filters=filters)
        return self.count() if count is None else count
