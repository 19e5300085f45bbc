"""Each registered strategy's record for GET /api/strategies/: its description and
parameters, where it runs, its live record from the stored signals, its latest
walk-forward backtest and its latest calibration. Three queries whatever the
number of strategies, signals or versions: one aggregate for every strategy's
signals, and each strategy's latest backtest and latest calibration, each picked
by a correlated subquery in one statement."""

from __future__ import annotations

import dataclasses
import operator
from functools import reduce
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Cast

from .calibration_quality import calibration_quality
from .choices import Outcome, Status
from .models import Backtest, BacktestStatus, Calibration, Signal
from .stats_shape import CALIBRATION_BUCKETS
from .strategies import REGISTRY, selection_parse, strategies_for
from .strategies.params import params_overridden

RECORD_KEYS = ("signals", "wins", "losses", "win_rate", "expectancy_r")


def strategy_params_of(name: str) -> Any:
    """A strategy's parameters as configured: its defaults, for trend_momentum
    overridden by SIGNAL_STRATEGY_PARAMS."""
    if name == "trend_momentum":
        return params_overridden(settings.SIGNAL_STRATEGY_PARAMS)
    return REGISTRY[name].default_params


def _aggregates() -> dict[str, Any]:
    confidence = Cast("confidence", FloatField())
    decided = Q(outcome__in=(Outcome.WIN, Outcome.LOSS))
    resolved = Q(status__in=(Status.CLOSED, Status.EXPIRED), exit_price__isnull=False)
    # R = (exit − entry) / (entry − stop), for a buy and a sell alike.
    r_multiple = Cast(F("exit_price") - F("entry_price"), FloatField()) / Cast(
        F("entry_price") - F("stop_loss"), FloatField()
    )
    pips = Cast("pips", FloatField())
    aggregates: dict[str, Any] = {
        "signals": Count("id"),
        "wins": Count("id", filter=Q(outcome=Outcome.WIN)),
        "losses": Count("id", filter=Q(outcome=Outcome.LOSS)),
        "r_sum": Sum(r_multiple, filter=resolved),
        "r_count": Count("id", filter=resolved),
        "gained": Sum(pips, filter=resolved & Q(pips__gt=0)),
        "lost": Sum(pips, filter=resolved & Q(pips__lt=0)),
        "squares": Sum(
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
    for b in range(CALIBRATION_BUCKETS):
        inside = Q(confidence__gte=b * 10) & (
            Q(confidence__lte=100) if b == 9 else Q(confidence__lt=b * 10 + 10)
        )
        aggregates[f"b{b}_wins"] = Count("id", filter=inside & Q(outcome="win"))
        aggregates[f"b{b}_losses"] = Count("id", filter=inside & Q(outcome="loss"))
        aggregates[f"b{b}_c"] = Sum(confidence, filter=inside & decided)
    return aggregates


def _live(row: dict[str, Any] | None) -> dict[str, Any]:
    row = row or {"signals": 0, "wins": 0, "losses": 0, "r_count": 0}
    wins, losses = row["wins"], row["losses"]
    decided = wins + losses
    buckets = []
    for b in range(CALIBRATION_BUCKETS):
        w, lo = row.get(f"b{b}_wins", 0), row.get(f"b{b}_losses", 0)
        buckets.append(
            {
                "min_confidence": b * 10,
                "max_confidence": b * 10 + 10,
                "signals": w + lo,
                "wins": w,
                "losses": lo,
                "win_rate": w / (w + lo) if w + lo else None,
            }
        )
    sums = [float(row.get(f"b{b}_c") or 0) for b in range(CALIBRATION_BUCKETS)]
    brier = float(row["squares"]) / decided if decided else None
    lost = -float(row.get("lost") or 0)
    return {
        "signals": row["signals"],
        "wins": wins,
        "losses": losses,
        "win_rate": wins / decided if decided else None,
        "expectancy_r": (
            float(row["r_sum"]) / row["r_count"] if row["r_count"] else None
        ),
        "profit_factor": float(row.get("gained") or 0) / lost if lost else None,
        "brier_score": brier,
        **calibration_quality(brier, buckets, sums),
        "buckets": buckets,
    }


def _walk_forward(backtest: Backtest | None) -> dict[str, Any] | None:
    if backtest is None or not backtest.report:
        return None
    overall, folds = backtest.report["overall"], backtest.report["folds"]
    cal = overall.get("calibration") or {}
    return {
        "backtest_id": backtest.pk,
        "from": folds[0]["from"] if folds else None,
        "to": folds[-1]["to"] if folds else None,
        **{key: overall.get(key) for key in (*RECORD_KEYS, "profit_factor")},
        "brier_score": overall.get("brier_score"),
        "base_rate_brier": cal.get("base_rate_brier"),
        "brier_skill_score": cal.get("brier_skill_score"),
        "calibration_error": cal.get("calibration_error"),
        "buckets": cal.get("buckets", []),
    }


def _calibration(row: Calibration | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.pk,
        "fitted_at": row.fitted_at,
        "outcomes_until": row.outcomes_until,
        "count": row.count,
        "base_rate": row.base_rate,
        "method": row.method,
    }


def _latest(queryset: Any, names: list[str], order: tuple[str, ...]) -> dict:
    """The first row of `queryset` in `order` for each strategy of `names`, by
    strategy: one statement of one uncorrelated `ORDER BY … LIMIT 1` subquery a
    strategy, each run once (a correlated one ran for every stored version)."""
    if not names:
        return {}
    firsts = [
        Q(pk=Subquery(queryset.filter(strategy=name).order_by(*order).values("pk")[:1]))
        for name in names
    ]
    return {row.strategy: row for row in queryset.filter(reduce(operator.or_, firsts))}


def strategy_records(names: list[str] | None = None) -> list[dict[str, Any]]:
    """The contract's strategy objects, sorted by name (all registered by default)."""
    names = sorted(REGISTRY if names is None else names)
    selection = selection_parse(settings.SIGNAL_STRATEGIES)
    rows = {
        row["strategy"]: row
        for row in Signal.objects.filter(strategy__in=names)
        .order_by()
        .values("strategy")
        .annotate(**_aggregates())
    }
    done = Backtest.objects.filter(status=BacktestStatus.DONE)
    backtests = _latest(done, names, ("-finished_at", "-id"))
    calibrations = _latest(Calibration.objects.all(), names, ("-fitted_at", "-id"))
    records = []
    for name in names:
        timeframes = [
            tf
            for tf in settings.SIGNAL_TIMEFRAMES
            if name in strategies_for(selection, tf)
        ]
        backtest, latest = backtests.get(name), calibrations.get(name)
        records.append(
            {
                "name": name,
                "description": REGISTRY[name].description,
                "parameters": dataclasses.asdict(strategy_params_of(name)),
                "timeframes": timeframes,
                "enabled": bool(timeframes),
                "live": _live(rows.get(name)),
                "walk_forward": _walk_forward(backtest),
                "calibration": _calibration(latest),
            }
        )
    return records
