"""What every strategy gives back (pure, no numpy): a setup at the last candle."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setup:
    """A trade idea at the last candle of the window. `confidence` is the
    strategy's own score (0-100), stored as the signal's `score`: a rating, not a
    probability (signals.calibration turns it into one)."""

    direction: str
    confidence: float
    entry: float
    stop_loss: float
    take_profit: float
    indicators: dict[str, float | None]
    reasoning: str


def clip01(x: float) -> float:
    """Clamp to [0, 1]."""
    return min(max(x, 0.0), 1.0)


def weighted_score(scores: tuple[float, ...], weights: tuple[float, ...]) -> float:
    """The weighted mean of scores in [0, 1], as 0-100 with two decimals."""
    weighted = sum(w * s for w, s in zip(weights, scores, strict=True))
    return round(min(max(100 * weighted / sum(weights), 0.0), 100.0), 2)
