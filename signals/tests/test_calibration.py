"""The calibration maps (signals.calibration, pure) against independent references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from signals.calibration import (
    ISOTONIC,
    LOGISTIC,
    PRIOR,
    brier,
    calibration_fit,
    isotonic_fit,
    isotonic_predict,
)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    distinct=st.sampled_from([5, 50, 10_000]),  # many ties, some, none
)
def test_isotonic_fit_equals_scikit_learns_isotonic_regression(seed, n, distinct):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, 100, n) * distinct / 100) * 100 / distinct
    y = (rng.uniform(0, 1, n) < 0.2 + 0.006 * x).astype(float)
    xs, ys = isotonic_fit(x.tolist(), y.tolist())
    reference = IsotonicRegression(out_of_bounds="clip").fit(x, y)
    probe = np.concatenate([x, rng.uniform(-10, 110, 50), np.linspace(0, 100, 21)])
    ours = [isotonic_predict(xs, ys, float(s)) for s in probe]
    np.testing.assert_allclose(ours, reference.predict(probe), rtol=0, atol=1e-12)


def _reference_shrink(n: int, wins: int, prior: float, k: int) -> float:
    return (wins + k * prior) / (n + k)


def test_no_outcome_gives_the_prior():
    fit = calibration_fit([], [], prior=1 / 3, k=30)
    assert fit.method == PRIOR and fit.count == 0
    assert fit.probability(0) == fit.probability(100) == pytest.approx(1 / 3)


@pytest.mark.parametrize("won", [True, False])
def test_one_outcome_moves_the_prior_by_one_part_in_k_plus_one(won):
    fit = calibration_fit([80.0], [won], prior=1 / 3, k=30)
    expected = (int(won) + 30 / 3) / 31
    assert fit.method == PRIOR
    assert fit.probability(80) == pytest.approx(expected)
    assert fit.probability(10) == pytest.approx(expected)  # no map yet


def test_few_outcomes_give_the_shrunk_base_rate_for_every_score():
    scores = [55.0, 60, 70, 90, 95, 51, 65, 80, 85, 99]
    wins = [True] * 10  # a perfect streak is still mostly prior
    fit = calibration_fit(scores, wins, prior=0.4, k=30)
    assert fit.method == PRIOR and fit.count == 10 and fit.wins == 10
    assert fit.probability(50) == pytest.approx(_reference_shrink(10, 10, 0.4, 30))
    assert fit.probability(50) < 0.6


def test_enough_outcomes_fit_a_map_shrunk_by_k():
    rng = np.random.default_rng(3)
    scores = rng.uniform(50, 100, 400).tolist()
    wins = [bool(rng.uniform() < (s - 40) / 100) for s in scores]
    fit = calibration_fit(scores, wins, prior=1 / 3, k=30)
    assert fit.method in (ISOTONIC, LOGISTIC)
    assert fit.brier_in_sample is not None and fit.brier_out_of_sample is not None
    base = _reference_shrink(400, sum(wins), 1 / 3, 30)
    assert fit.base_rate == pytest.approx(base)
    # Higher scores win more here, and the map says so.
    assert fit.probability(95) > fit.probability(55)
    # Never worse than the base rate in sample on data where the score has signal.
    assert fit.brier_in_sample <= brier([sum(wins) / 400] * 400, wins)


def test_the_method_with_the_lower_out_of_sample_brier_is_chosen():
    rng = np.random.default_rng(11)
    # A step at 70: isotonic can follow it, a logistic curve only approximates it.
    scores = rng.uniform(50, 100, 2000).tolist()
    wins = [bool(rng.uniform() < (0.9 if s >= 70 else 0.1)) for s in scores]
    assert calibration_fit(scores, wins, prior=0.5, k=30).method == ISOTONIC
