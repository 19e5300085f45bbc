"""Stored calibrations: fitting new versions from resolved outcomes, and giving a
generated signal the confidence of the latest one fitted before its candle.

A version of (strategy, timeframe) is fitted on the outcomes (win or loss) whose
`closed_at` is at most its `outcomes_until`; a signal on the candle opening at T
uses the latest version with `outcomes_until < T`, so no outcome resolved at or
after its candle reaches its confidence, and a new version never changes a
stored signal (signals only read versions when they are generated). The maths is
signals.calibration (pure).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .calibration import PRIOR, Fit, calibration_fit, fit_from_stored
from .choices import Outcome
from .models import Calibration, Signal
from .strategies import REGISTRY

CONFIDENCE_STEP = Decimal("0.01")


def _prior(strategy: str) -> float:
    info = REGISTRY.get(strategy)
    return info.prior_win_rate() if info else 0.5


def calibration_refit(
    *, strategy: str, timeframe: str, until: datetime | None = None
) -> Calibration | None:
    """Fit and store a new version from the outcomes resolved up to `until` (all by
    default); None when there is none, or when the latest version already used
    exactly these outcomes (nothing new to learn)."""
    outcomes = Signal.objects.filter(
        strategy=strategy,
        timeframe=timeframe,
        outcome__in=(Outcome.WIN, Outcome.LOSS),
        closed_at__isnull=False,
        score__isnull=False,
    )
    if until is not None:
        outcomes = outcomes.filter(closed_at__lte=until)
    rows = list(
        outcomes.order_by("closed_at", "timestamp", "id").values_list(
            "score", "outcome", "closed_at"
        )
    )
    if not rows:
        return None
    last = rows[-1][2]
    latest = (
        Calibration.objects.filter(strategy=strategy, timeframe=timeframe)
        .order_by("-outcomes_until", "-id")
        .first()
    )
    if latest and latest.outcomes_until == last and latest.count == len(rows):
        return None
    fit = calibration_fit(
        [float(score) for score, _, _ in rows],
        [outcome == Outcome.WIN for _, outcome, _ in rows],
        prior=_prior(strategy),
        k=settings.CALIBRATION_MIN_OUTCOMES,
    )
    return Calibration.objects.create(
        strategy=strategy,
        timeframe=timeframe,
        fitted_at=timezone.now(),
        outcomes_until=last,
        count=fit.count,
        wins=fit.wins,
        base_rate=fit.base_rate,
        method=fit.method,
        brier_in_sample=fit.brier_in_sample,
        brier_out_of_sample=fit.brier_out_of_sample,
        mapping=fit.mapping,
    )


def calibrations_refit() -> list[Calibration]:
    """A new version for every registered strategy and timeframe with new outcomes."""
    groups = (
        Signal.objects.filter(strategy__in=list(REGISTRY), closed_at__isnull=False)
        .order_by()
        .values_list("strategy", "timeframe")
        .distinct()
    )
    fitted = []
    for strategy, timeframe in sorted(groups):
        with transaction.atomic():
            row = calibration_refit(strategy=strategy, timeframe=timeframe)
        if row is not None:
            fitted.append(row)
    return fitted


def _stored_fit(row: Calibration) -> Fit:
    return fit_from_stored(row.method, row.count, row.wins, row.base_rate, row.mapping)


def confidences_apply(signals: Sequence[Signal]) -> None:
    """Set each unsaved generated signal's confidence from its score: the latest
    calibration of its strategy and timeframe fitted before its candle (its id in
    calibration_id, null for a prior), else the strategy's break-even prior."""
    latest: dict[tuple, Calibration | None] = {}
    for signal in signals:
        key = (signal.strategy, signal.timeframe, signal.timestamp)
        if key not in latest:
            latest[key] = (
                Calibration.objects.filter(
                    strategy=signal.strategy,
                    timeframe=signal.timeframe,
                    outcomes_until__lt=signal.timestamp,
                )
                .order_by("-outcomes_until", "-id")
                .first()
            )
        row = latest[key]
        if row is None:
            probability, signal.calibration_id = _prior(signal.strategy), None
        else:
            probability = _stored_fit(row).probability(float(signal.score or 0))
            signal.calibration_id = None if row.method == PRIOR else row.pk
        signal.confidence = Decimal(repr(100 * probability)).quantize(CONFIDENCE_STEP)
