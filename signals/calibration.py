"""Calibration maps (pure: numbers and numpy only): a strategy's score (0-100) in,
the probability of a win out, learned from resolved outcomes in time order.

Given the n outcomes (w wins) of a strategy and timeframe, oldest first, with the
strategy's break-even prior p_prior = 1 / (1 + reward:risk) and the shrinkage
weight k (CALIBRATION_MIN_OUTCOMES):

    p_base = (w + k · p_prior) / (n + k)         the base rate, shrunk to the prior
    p(s)   = (n · p_map(s) + k · p_base) / (n + k)   when n >= k ("isotonic"/"logistic")
    p(s)   = p_base                                   when n <  k ("prior": no map)

p_map is an isotonic regression (pool-adjacent-violators, non-decreasing in the
score, linear between its steps, flat beyond its ends) or a logistic curve
p = 1 / (1 + exp(-(a + b · s / 100))), whichever has the lower Brier score on the
newest 30 % of the outcomes when fitted on the oldest 70 %; the winner is then
fitted on all n. With no outcome p(s) = p_prior.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ISOTONIC, LOGISTIC, PRIOR = "isotonic", "logistic", "prior"
TRAIN_SHARE = 0.7


def isotonic_fit(
    x: Sequence[float], y: Sequence[float]
) -> tuple[list[float], list[float]]:
    """The non-decreasing least-squares fit of y on x (pool-adjacent-violators):
    the distinct x values, sorted, and the fitted value at each."""
    order = sorted(range(len(x)), key=lambda i: x[i])
    # Equal x values first become one point: their mean, weighted by their count.
    xs: list[float] = []
    sums: list[float] = []
    weights: list[float] = []
    for i in order:
        if xs and x[i] == xs[-1]:
            sums[-1] += y[i]
            weights[-1] += 1
        else:
            xs.append(float(x[i]))
            sums.append(float(y[i]))
            weights.append(1.0)
    # Blocks of (value sum, weight, point count); merge while a block is below
    # the one before it.
    blocks: list[list[float]] = []
    for s, w in zip(sums, weights, strict=True):
        blocks.append([s, w, 1])
        while len(blocks) > 1 and (
            blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]
        ):
            s2, w2, c2 = blocks.pop()
            blocks[-1][0] += s2
            blocks[-1][1] += w2
            blocks[-1][2] += c2
    ys: list[float] = []
    for s, w, count in blocks:
        ys.extend([s / w] * int(count))
    return xs, ys


def isotonic_predict(xs: Sequence[float], ys: Sequence[float], score: float) -> float:
    """The isotonic map at `score`: linear between its points, flat beyond."""
    return float(np.interp(score, xs, ys))


def logistic_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(a, b) of p = 1 / (1 + exp(-(a + b·x/100))) by Newton's method on the log
    loss, with a tiny ridge so that separable data stay finite."""
    s = np.asarray(x, dtype=float) / 100.0
    t = np.asarray(y, dtype=float)
    design = np.column_stack([np.ones_like(s), s])
    beta = np.zeros(2)
    ridge = 1e-3 * np.eye(2)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(design @ beta)))
        gradient = design.T @ (p - t) + ridge @ beta
        hessian = (design.T * (p * (1 - p))) @ design + ridge
        step = np.linalg.solve(hessian, gradient)
        beta = beta - step
        if float(np.abs(step).max()) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def logistic_predict(a: float, b: float, score: float) -> float:
    z = a + b * score / 100.0
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _raw_map(method: str, mapping: dict[str, Any], score: float) -> float:
    if method == ISOTONIC:
        return isotonic_predict(mapping["x"], mapping["y"], score)
    return logistic_predict(mapping["a"], mapping["b"], score)


def _fit_map(method: str, x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    if method == ISOTONIC:
        xs, ys = isotonic_fit(x, y)
        return {"x": xs, "y": ys}
    a, b = logistic_fit(x, y)
    return {"a": a, "b": b}


def brier(probabilities: Sequence[float], wins: Sequence[bool]) -> float | None:
    """mean((p − 1 if win else p)²); None without outcomes."""
    if not wins:
        return None
    pairs = zip(probabilities, wins, strict=True)
    return sum((p - (1.0 if w else 0.0)) ** 2 for p, w in pairs) / len(wins)


@dataclass(frozen=True)
class Fit:
    """A fitted calibration: the probability of a win for any score."""

    method: str
    count: int
    wins: int
    base_rate: float  # p_base
    k: int
    mapping: dict[str, Any] = field(default_factory=dict)
    brier_in_sample: float | None = None
    brier_out_of_sample: float | None = None

    def probability(self, score: float) -> float:
        """p(score) in [0, 1] (see the module's formula)."""
        if self.method == PRIOR:
            return self.base_rate
        raw = _raw_map(self.method, self.mapping, score)
        n, k = self.count, self.k
        return min(max((n * raw + k * self.base_rate) / (n + k), 0.0), 1.0)


def fit_from_stored(
    method: str, count: int, wins: int, base_rate: float, mapping: dict[str, Any]
) -> Fit:
    """The Fit of a stored row (its mapping carries k)."""
    return Fit(method, count, wins, base_rate, int(mapping.get("k", 0)), mapping)


def calibration_fit(
    scores: Sequence[float], wins: Sequence[bool], *, prior: float, k: int
) -> Fit:
    """The calibration of outcomes given oldest first (see the module's formula)."""
    n, w = len(wins), sum(bool(v) for v in wins)
    base = (w + k * prior) / (n + k) if n + k else prior
    if n < max(k, 2):
        return Fit(PRIOR, n, w, base, k, {"k": k, "prior": prior})
    y = [1.0 if v else 0.0 for v in wins]
    cut = max(1, min(n - 1, int(n * TRAIN_SHARE)))
    out_of_sample = {}
    for method in (LOGISTIC, ISOTONIC):
        mapping = _fit_map(method, scores[:cut], y[:cut])
        predicted = [_raw_map(method, mapping, s) for s in scores[cut:]]
        out_of_sample[method] = brier(predicted, list(wins[cut:])) or 0.0
    method = min((LOGISTIC, ISOTONIC), key=lambda m: out_of_sample[m])
    mapping = {**_fit_map(method, scores, y), "k": k, "prior": prior}
    fit = Fit(method, n, w, base, k, mapping)
    in_sample = brier([fit.probability(s) for s in scores], list(wins))
    return Fit(method, n, w, base, k, mapping, in_sample, out_of_sample[method])
