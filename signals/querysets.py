from collections.abc import Iterable, Mapping
from fractions import Fraction
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
from .storage.columns import MINIMAL_FIELDS

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
            from .models import SignalRollup  # models → querysets

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
        from .models import SignalRollup  # models → querysets

        count = SignalRollup.objects.rollup_count(filters=filters)
        return self.count() if count is None else count


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
        "calibration": {
            "brier_score": _number(row["brier"]),
            "buckets": _calibration_buckets(row),
        },
    }


def rollup_where(filters: Mapping[str, Any]) -> Q | None:
    """The rollup's condition for these SignalFilter values, or None when the rollup
    cannot answer them exactly: since/until (it keeps no time), or a confidence bound
    that is not a multiple of 10 (its bands' edges)."""
    if filters.get("since") or filters.get("until"):
        return None
    where = Q(signals__gt=0)
    if filters.get("pair"):
        where &= Q(pair__in=filters["pair"])
    for name in ("timeframe", "direction", "status", "outcome"):
        if filters.get(name):
            where &= Q(**{name: filters[name]})
    low, high = filters.get("min_confidence"), filters.get("max_confidence")
    if (low is not None and low > 100) or (high is not None and high < 0):
        return Q(signals__lt=0)  # no signal matches (and % 10 could overflow)
    if low is not None and low > 0:  # every confidence is ≥ 0
        if low % 10:
            return None
        where &= Q(band__gte=int(low) // 10)
    if high is not None and high < 100:  # every confidence is ≤ 100
        if high % 10:
            return None
        band = int(high) // 10
        where &= Q(band__lt=band) | Q(band=band, edge=True)
    return where


def _brier(squares: int, win_sum: int, wins: int, decided: int) -> float | None:
    """Mean of (p − 1)² over wins and p² over losses, p = confidence / 100, from
    the sums in hundredths: (Σp² − 2 Σ_win p + wins) / decided, exactly."""
    if not decided:
        return None
    total = Fraction(squares, 10**8) - Fraction(2 * win_sum, 10**4) + wins
    return float(total / decided)


class SignalRollupQuerySet(models.QuerySet):
    def rollup_count(self, *, filters: Mapping[str, Any]) -> int | None:
        """COUNT of the signals matching `filters`, or None if it cannot tell."""
        where = rollup_where(filters)
        if where is None:
            return None
        return int(self.filter(where).aggregate(n=Sum("signals"))["n"] or 0)

    def stats(self, *, filters: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stats object (as SignalQuerySet.stats) in one query over the rollup's
        groups, or None when it cannot answer `filters` exactly."""
        where = rollup_where(filters)
        if where is None:
            return None
        rows = (
            self.filter(where)
            .values("pair", "status", "outcome", "band")
            .annotate(
                n=Sum("signals"),
                c=Sum("confidence_sum"),
                c2=Sum("confidence_squares"),
                pips=Sum("pips_sum"),
            )
            .order_by("pair", "status", "outcome", "band")
        )
        row: dict[str, Any] = {
            "total": 0,
            **{f"status_{value}": 0 for value in Status.values},
            **{f"outcome_{value}": 0 for value in Outcome.values},
            **{
                f"b{b}_{kind}": 0
                for b in range(CALIBRATION_BUCKETS)
                for kind in ("wins", "losses")
            },
        }
        confidence = squares = win_sum = 0
        pips: Any = 0
        by_pair: dict[str, dict[str, Any]] = {}
        for item in rows:
            n, c = int(item["n"]), int(item["c"])
            row["total"] += n
            row[f"status_{item['status']}"] += n
            row[f"outcome_{item['outcome']}"] += n
            confidence += c
            pips += item["pips"]
            pair = by_pair.setdefault(
                item["pair"],
                {
                    "pair": item["pair"],
                    "total": 0,
                    "wins": 0,
                    "losses": 0,
                    "c": 0,
                    "pips": 0,
                },
            )
            pair["total"] += n
            pair["c"] += c
            pair["pips"] += item["pips"]
            if item["outcome"] in (Outcome.WIN, Outcome.LOSS):
                kind = "wins" if item["outcome"] == Outcome.WIN else "losses"
                row[f"b{min(item['band'], 9)}_{kind}"] += n  # band 10: 100
                pair[kind] += n
                squares += int(item["c2"])
                win_sum += c if kind == "wins" else 0
        total = row["total"]
        row["avg_confidence"] = confidence / (100 * total) if total else None
        row["total_pips"] = float(pips)
        row["brier"] = _brier(
            squares,
            win_sum,
            row["outcome_win"],
            row["outcome_win"] + row["outcome_loss"],
        )
        for pair in by_pair.values():
            pair["avg_confidence"] = pair.pop("c") / (100 * pair["total"])
            pair["total_pips"] = float(pair.pop("pips"))
        return stats_shape(row, by_pair.values())
