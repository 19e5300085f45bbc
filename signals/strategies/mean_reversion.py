"""The `mean_reversion` strategy (pure): fade an RSI and Bollinger extreme.

At the last bar, with the default parameters: a buy when the close is below the
lower Bollinger(20, 2) band and RSI14 < 30; a sell when it is above the upper band
and RSI14 > 70. No setup when ADX14 > 30 (a trend, not an excess) or ATR14 is 0.
The score (0-100) weighs the RSI's distance past its bound (full at 10 points,
weight 40), the close's distance outside the band in ATRs (full at 1, weight 40)
and the weakness of the trend (ADX from 30 (0) to 10 (1), weight 20). The stop is
1.5 x ATR14 from the entry, the target 1.5 times that distance on the other side.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from signals import indicators as ind

from .base import Setup, clip01, weighted_score
from .params import MeanReversionParams

STRATEGY_NAME = "mean_reversion"
DEFAULT_PARAMS = MeanReversionParams()


def min_candles(params: MeanReversionParams = DEFAULT_PARAMS) -> int:
    """Fewest candles for which every indicator is defined on the last bar."""
    return max(params.rsi_period, params.bb_period - 1, 2 * params.adx_period - 1) + 1


def evaluate(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    params: MeanReversionParams = DEFAULT_PARAMS,
) -> Setup | None:
    """The setup at the last candle, or None."""
    p = params
    h, lo, c = (np.asarray(x, dtype=np.float64) for x in (high, low, close))
    if c.ndim != 1 or len(c) < min_candles(p):
        return None
    upper, middle, lower = ind.bollinger(c, p.bb_period, p.bb_std)
    values = {
        f"rsi_{p.rsi_period}": ind.last_value(ind.rsi(c, p.rsi_period)),
        f"atr_{p.atr_period}": ind.last_value(ind.atr(h, lo, c, p.atr_period)),
        f"adx_{p.adx_period}": ind.last_value(ind.adx(h, lo, c, p.adx_period)),
        "bb_upper": ind.last_value(upper),
        "bb_middle": ind.last_value(middle),
        "bb_lower": ind.last_value(lower),
    }
    if any(v is None or not math.isfinite(v) for v in values.values()):
        return None
    rsi = float(values[f"rsi_{p.rsi_period}"])  # type: ignore[arg-type]
    atr = float(values[f"atr_{p.atr_period}"])  # type: ignore[arg-type]
    adx = float(values[f"adx_{p.adx_period}"])  # type: ignore[arg-type]
    entry = float(c[-1])
    if entry < float(lower[-1]) and rsi < p.rsi_oversold:
        direction, sign, band, past = "buy", 1.0, float(lower[-1]), p.rsi_oversold - rsi
    elif entry > float(upper[-1]) and rsi > p.rsi_overbought:
        direction, sign = "sell", -1.0
        band, past = float(upper[-1]), rsi - p.rsi_overbought
    else:
        return None
    if adx > p.max_adx or atr <= 0:
        return None
    scores = (
        clip01(past / p.rsi_full),
        clip01(sign * (band - entry) / atr / p.band_full_atr),
        clip01((p.max_adx - adx) / (p.max_adx - 10.0)) if p.max_adx > 10 else 0.0,
    )
    score = weighted_score(scores, p.weights())
    risk = p.atr_stop_multiple * atr
    stop_loss, take_profit = entry - sign * risk, entry + sign * p.risk_reward * risk
    if not min(stop_loss, take_profit) < entry < max(stop_loss, take_profit):
        return None
    side = "below the lower" if direction == "buy" else "above the upper"
    reasoning = (
        f"{direction.upper()}: close {entry:.6g} {side} Bollinger band "
        f"({band:.6g}) with RSI{p.rsi_period} {rsi:.1f}; ADX{p.adx_period} "
        f"{adx:.1f} <= {p.max_adx:g} (no strong trend). Score {score:.2f} from "
        f"RSI {scores[0]:.2f}, band {scores[1]:.2f}, ADX {scores[2]:.2f}. Stop "
        f"{p.atr_stop_multiple:g} x ATR{p.atr_period} ({risk:.6g}), target "
        f"{p.risk_reward:g}R."
    )
    return Setup(direction, score, entry, stop_loss, take_profit, values, reasoning)
