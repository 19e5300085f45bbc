"""Walk-forward calibration: a fold's confidences come from outcomes resolved
before its first candle only."""

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from signals.backtest.metrics import Trade, summary
from signals.backtest.runs import _calibrated

T0 = datetime(2017, 1, 1, tzinfo=UTC)


def _trade(i: int, rng: random.Random) -> Trade:
    exit_index = i + rng.randint(1, 40)
    won = rng.random() < 0.4
    return Trade(
        index=i,
        timestamp=T0 + timedelta(hours=i),
        direction="buy",
        entry_price=Decimal("1.1"),
        stop_loss=Decimal("1.09"),
        take_profit=Decimal("1.12"),
        confidence=Decimal(rng.randint(50, 100)),
        status="closed",
        outcome="win" if won else "loss",
        exit_price=Decimal("1.12") if won else Decimal("1.09"),
        pips=Decimal(200 if won else -100),
        r_multiple=Decimal(2 if won else -1),
        closed_at=T0 + timedelta(hours=exit_index + 1),
        exit_index=exit_index,
        score=Decimal(rng.randint(50, 100)),
    )


@pytest.mark.parametrize("seed", range(5))
def test_outcomes_resolved_in_or_after_the_fold_never_change_its_confidences(
    seed, settings
):
    settings.CALIBRATION_MIN_OUTCOMES = 10
    rng = random.Random(seed)
    history = [_trade(i, rng) for i in range(0, 600, 3)]
    lo, hi = 400, 600
    fold = [t for t in history if lo <= t.index < hi]
    flipped = [
        dataclasses.replace(t, outcome="loss" if t.outcome == "win" else "win")
        if t.exit_index >= lo
        else t
        for t in history
    ]
    ours = _calibrated(fold, history, lo, prior=1 / 3)
    again = _calibrated(fold, flipped, lo, prior=1 / 3)
    assert [t.confidence for t in ours] == [t.confidence for t in again]
    assert [t.score for t in ours] == [t.score for t in fold]
    cal = summary(ours)["calibration"]
    assert {"base_rate_brier", "brier_skill_score", "calibration_error"} <= set(cal)
