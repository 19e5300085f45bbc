"""Stored calibrations (signals.calibrations): versions fitted on the outcomes
resolved before a signal's candle only, and never rewriting a stored signal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signals.calibration import calibration_fit
from signals.calibrations import (
    calibration_refit,
    calibrations_refit,
    confidences_apply,
)
from signals.models import Calibration, Signal
from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db
NAME = "trend_momentum"


def resolved(hour: int, score: float, won: bool, closes_after: int) -> Signal:
    return SignalFactory(
        strategy=NAME,
        timestamp=START + timedelta(hours=hour),
        score=Decimal(str(score)),
        confidence=Decimal(50),
        status="closed",
        outcome="win" if won else "loss",
        closed_at=START + timedelta(hours=hour + closes_after),
    )


def probe(hour: int, score: float) -> Signal:
    signal = Signal(
        strategy=NAME,
        timeframe="1h",
        pair="EUR/USD",
        timestamp=START + timedelta(hours=hour),
        score=Decimal(str(score)),
        confidence=Decimal(str(score)),
    )
    confidences_apply([signal])
    return signal


def test_without_a_calibration_the_confidence_is_the_break_even_prior():
    signal = probe(10, 90)
    assert signal.confidence == Decimal("33.33") and signal.calibration_id is None


def test_the_latest_version_fitted_before_the_candle_gives_the_confidence(settings):
    settings.CALIBRATION_MIN_OUTCOMES = 4
    for hour in range(40):
        resolved(hour, 50 + hour, hour % 3 == 0, closes_after=2)
    early = calibration_refit(
        strategy=NAME, timeframe="1h", until=START + timedelta(hours=21)
    )
    late = calibration_refit(strategy=NAME, timeframe="1h")
    assert early.outcomes_until == START + timedelta(hours=21)
    assert early.count == 20 and late.count == 40 and early.method != "prior"
    # A candle at hour 30 sees the early version only (the late one used outcomes
    # resolved after it); one after the last outcome sees the late one.
    at_30, at_50 = probe(30, 70), probe(50, 70)
    assert at_30.calibration_id == early.pk and at_50.calibration_id == late.pk
    fit = calibration_fit(
        [50 + h for h in range(20)], [h % 3 == 0 for h in range(20)], prior=1 / 3, k=4
    )
    assert at_30.confidence == Decimal(repr(100 * fit.probability(70))).quantize(
        Decimal("0.01")
    )
    # Fitting again on the same outcomes stores no new version.
    assert calibration_refit(strategy=NAME, timeframe="1h") is None


def test_a_prior_version_leaves_calibration_id_null(settings):
    settings.CALIBRATION_MIN_OUTCOMES = 30
    resolved(0, 80, True, closes_after=1)
    row = calibration_refit(strategy=NAME, timeframe="1h")
    assert row.method == "prior" and row.count == 1
    signal = probe(5, 80)
    assert signal.calibration_id is None
    assert float(signal.confidence) == pytest.approx(100 * (1 + 30 / 3) / 31, abs=0.01)


def test_a_refit_leaves_stored_confidences_alone(settings):
    settings.CALIBRATION_MIN_OUTCOMES = 4
    for hour in range(12):
        resolved(hour, 60 + hour, hour % 2 == 0, closes_after=1)
    calibrations_refit()
    fresh = probe(20, 75)
    fresh.entry_price, fresh.stop_loss, fresh.take_profit = (
        Decimal("1.1"),
        Decimal("1.09"),
        Decimal("1.12"),
    )
    fresh.direction, fresh.risk_reward = "buy", Decimal(2)
    fresh.save()
    before = list(Signal.objects.values_list("id", "confidence", "calibration_id"))
    for hour in range(30, 48):
        resolved(hour, 90, True, closes_after=1)
    call_command("fit_calibrations", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Calibration.objects.count() == 2
    after = dict(
        (pk, (c, cal))
        for pk, c, cal in Signal.objects.values_list(
            "id", "confidence", "calibration_id"
        )
    )
    assert all(after[pk] == (c, cal) for pk, c, cal in before)


outcome_rows = st.lists(
    st.tuples(
        st.integers(0, 60),  # the signal's hour
        st.integers(50, 100),  # its score
        st.booleans(),  # won
        st.integers(1, 30),  # hours until it resolved
    ),
    max_size=40,
    unique_by=lambda row: row[0],
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=outcome_rows,
    refits=st.lists(st.integers(0, 100), max_size=6),
    at=st.integers(1, 100),
    score=st.integers(50, 100),
    flips=st.sets(st.integers(0, 39)),
)
def test_no_outcome_resolved_after_the_candle_changes_its_confidence(
    settings, rows, refits, at, score, flips
):
    """Flip any outcomes resolved at or after the probe's candle, refit at the
    same times: the probe's confidence and calibration are the same."""
    settings.CALIBRATION_MIN_OUTCOMES = 3

    def run(flipped: set[int]) -> tuple:
        with transaction.atomic():
            for n, (hour, s, won, after) in enumerate(rows):
                resolved(hour, s, won != (n in flipped), closes_after=after)
            for until in sorted(refits):
                calibration_refit(
                    strategy=NAME, timeframe="1h", until=START + timedelta(hours=until)
                )
            signal = probe(at, score)
            used = Calibration.objects.filter(pk=signal.calibration_id).values_list(
                "count", "wins", "outcomes_until"
            )
            answer = (signal.confidence, list(used))
            transaction.set_rollback(True)
        return answer

    late = {n for n in flips if n < len(rows) and rows[n][0] + rows[n][3] >= at}
    assert run(set()) == run(late)
