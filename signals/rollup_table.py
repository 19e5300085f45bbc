"""The signal rollup's table (`SignalRollup`) and its reads: the stats and counts it
answers in one query when the filters allow. Its upkeep is `signals.rollup`.

It sits below `signals.querysets`, whose `SignalQuerySet.stats` asks the rollup first,
so the querysets need not import `signals.models` (which imports them and names this
model with the app's others)."""

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from django.db import models
from django.db.models import Q, Sum

from .choices import Outcome, Status
from .stats_shape import CALIBRATION_BUCKETS, stats_shape


def rollup_where(filters: Mapping[str, Any]) -> Q | None:
    """The rollup's condition for these SignalFilter values, or None when the rollup
    cannot answer them exactly: since/until (it keeps no time), strategy (it keeps
    none), or a confidence bound that is not a multiple of 10 (its bands' edges)."""
    if filters.get("since") or filters.get("until") or filters.get("strategy"):
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
                for kind in ("wins", "losses", "c")
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
                row[f"b{min(item['band'], 9)}_c"] += c / 100  # c in hundredths
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


class SignalRollup(models.Model):
    """Sums of the signals of one group, kept by the write services in the writing
    transaction (signals.rollup), so the stats need not scan the signals.

    A group is every filter of the stats but since/until: pair, timeframe, direction,
    status, outcome, a 10-point confidence band (the calibration's) and whether the
    confidence sits on the band's lower edge, so any confidence bound on a multiple
    of 10 is exact. Sums are exact: confidence in hundredths, its square in
    ten-thousandths, pips as stored."""

    pair = models.CharField(max_length=25)
    timeframe = models.CharField(max_length=3)
    direction = models.CharField(max_length=4)
    status = models.CharField(max_length=9)
    outcome = models.CharField(max_length=9)
    band = models.SmallIntegerField(
        help_text="0 for [0, 10) … 9 for [90, 100), 10 for 100."
    )
    edge = models.BooleanField(help_text="confidence == 10 × band")
    signals = models.BigIntegerField(default=0)
    confidence_sum = models.BigIntegerField(default=0, help_text="In hundredths.")
    confidence_squares = models.BigIntegerField(
        default=0, help_text="Sum of squares of confidence in hundredths."
    )
    pips_sum = models.DecimalField(max_digits=32, decimal_places=4, default=0)

    objects = SignalRollupQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "pair",
                    "timeframe",
                    "direction",
                    "status",
                    "outcome",
                    "band",
                    "edge",
                ],
                name="uniq_signal_rollup_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pair} {self.status}/{self.outcome} band {self.band}"
