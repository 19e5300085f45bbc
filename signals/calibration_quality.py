"""How good probabilities are, beyond the Brier score (pure): the base rate's
Brier score, the skill against it and the expected calibration error, shared by
the signal stats, the strategies' records and the backtest report."""

from __future__ import annotations

from typing import Any


def calibration_quality(
    brier: float | None, buckets: list[dict[str, Any]], confidence_sums: list[float]
) -> dict[str, float | None]:
    """base_rate_brier = p(1 − p) for the win rate p of the decided signals,
    brier_skill_score = 1 − brier / base_rate_brier (null when either is null or
    the base rate is 0 or 1), calibration_error = Σ (n_b / n) · |mean confidence_b −
    100 · win rate_b| over the buckets, in points; `confidence_sums` are each
    bucket's sum of confidence (0-100) over its decided signals."""
    n = sum(b["signals"] for b in buckets)
    if not n:
        return {
            "base_rate_brier": None,
            "brier_skill_score": None,
            "calibration_error": None,
        }
    p = sum(b["wins"] for b in buckets) / n
    base = p * (1 - p)
    skill = 1 - brier / base if brier is not None and base > 0 else None
    error = sum(
        abs(total / b["signals"] - 100 * b["wins"] / b["signals"]) * b["signals"] / n
        for b, total in zip(buckets, confidence_sums, strict=True)
        if b["signals"]
    )
    return {
        "base_rate_brier": base,
        "brier_skill_score": skill,
        "calibration_error": error,
    }
