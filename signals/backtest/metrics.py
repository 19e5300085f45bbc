"""Replayed trades and the statistics the backtest report gives over them (pure).

Definitions (as the signal stats of the API where they overlap): `win_rate` is
wins / (wins + losses); `expectancy_r` the mean R multiple over resolved trades,
R = signed price move / |entry - stop|; `profit_factor` the pips won / the pips
lost (null without a losing pip); `total_pips` over resolved trades;
`max_drawdown_pips` the largest drop of cumulative pips from its running peak (the
peak starting at 0), trades taken in the order they closed; `brier_score` and the
ten calibration buckets over trades whose outcome is win or loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from signals.calibration_quality import calibration_quality

CALIBRATION_BUCKETS = 10
RESOLVED = ("closed", "expired")


@dataclass(frozen=True)
class Trade:
    """One replayed signal and how it ended (outcome fields None while pending)."""

    index: int  # position of the signal's candle in the replayed series
    timestamp: datetime
    direction: str
    entry_price: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    confidence: Decimal
    status: str
    outcome: str
    exit_price: Decimal | None
    pips: Decimal | None
    r_multiple: Decimal | None
    closed_at: datetime | None
    exit_index: int | None  # position of the exit candle
    fold: int | None = None
    score: Decimal | None = None  # the strategy's rating; confidence once calibrated

    def as_json(self) -> dict[str, Any]:
        """The report's trade object."""
        return {
            "timestamp": _iso(self.timestamp),
            "direction": self.direction,
            "entry_price": float(self.entry_price),
            "stop_loss": float(self.stop_loss),
            "take_profit": float(self.take_profit),
            "confidence": float(self.confidence),
            "score": _float(self.score),
            "status": self.status,
            "outcome": self.outcome,
            "exit_price": _float(self.exit_price),
            "pips": _float(self.pips),
            "r_multiple": _float(self.r_multiple),
            "closed_at": _iso(self.closed_at),
            "fold": self.fold,
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def calibration(trades: Sequence[Trade]) -> dict[str, Any]:
    """Brier score and ten confidence buckets over trades that won or lost."""
    decided = [t for t in trades if t.outcome in ("win", "loss")]
    buckets = []
    for bucket in range(CALIBRATION_BUCKETS):
        low = bucket * 10
        inside = [
            t
            for t in decided
            if low <= t.confidence and (t.confidence < low + 10 or bucket == 9)
        ]
        wins = sum(t.outcome == "win" for t in inside)
        buckets.append(
            {
                "min_confidence": low,
                "max_confidence": low + 10,
                "signals": len(inside),
                "wins": wins,
                "losses": len(inside) - wins,
                "win_rate": _ratio(wins, len(inside)),
            }
        )
    errors = [
        (float(t.confidence) / 100 - (1.0 if t.outcome == "win" else 0.0)) ** 2
        for t in decided
    ]
    brier = sum(errors) / len(errors) if errors else None
    sums = [
        sum(
            float(t.confidence)
            for t in decided
            if b * 10 <= t.confidence and (t.confidence < b * 10 + 10 or b == 9)
        )
        for b in range(CALIBRATION_BUCKETS)
    ]
    return {
        "brier_score": brier,
        **calibration_quality(brier, buckets, sums),
        "buckets": buckets,
    }


def drawdown_curve(trades: Sequence[Trade]) -> list[tuple[datetime, float, float]]:
    """(closed_at, cumulative pips, drop below the running peak) per resolved trade."""
    resolved = sorted(
        (t for t in trades if t.status in RESOLVED),
        key=lambda t: (t.closed_at, t.timestamp),
    )
    points, total, peak = [], 0.0, 0.0
    for t in resolved:
        total += float(t.pips or 0)
        peak = max(peak, total)
        points.append((t.closed_at, total, peak - total))
    return points


def summary(trades: Sequence[Trade]) -> dict[str, Any]:
    """The report's statistics object over some trades."""
    resolved = [t for t in trades if t.status in RESOLVED]
    wins = sum(t.outcome == "win" for t in trades)
    losses = sum(t.outcome == "loss" for t in trades)
    pips = [float(t.pips) for t in resolved if t.pips is not None]
    r_values = [float(t.r_multiple) for t in resolved if t.r_multiple is not None]
    gained = sum(p for p in pips if p > 0)
    lost = -sum(p for p in pips if p < 0)
    curve = drawdown_curve(trades)
    cal = calibration(trades)
    return {
        "signals": len(trades),
        "wins": wins,
        "losses": losses,
        "expired": sum(t.status == "expired" for t in trades),
        "win_rate": _ratio(wins, wins + losses),
        "expectancy_r": sum(r_values) / len(r_values) if r_values else None,
        "profit_factor": _ratio(gained, lost),
        "total_pips": sum(pips),
        "max_drawdown_pips": max((dd for _, _, dd in curve), default=0.0),
        "brier_score": cal["brier_score"],
        "calibration": cal,
    }
