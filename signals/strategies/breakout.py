"""The `breakout` strategy (pure): a close beyond the Donchian channel, ATR stop.

At the last bar, with the default parameters: a buy when the close is above the
highest high of the 20 bars before it (the Donchian channel ending on the previous
bar), a sell when it is below their lowest low. No setup when ADX14 < 15 (no
directional movement behind the break) or ATR14 is 0. The score (0-100) weighs
the break's distance beyond the channel in ATRs (full at 1, weight 60) and ADX
(from 15 (0) to 40 (1), weight 40). The stop is 2 x ATR14 from the entry, the
target twice that distance on the other side.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from signals import indicators as ind

from .base import Setup, clip01, weighted_score
from .params import BreakoutParams

STRATEGY_NAME = "breakout"
DEFAULT_PARAMS = BreakoutParams()


def min_candles(params: BreakoutParams = DEFAULT_PARAMS) -> int:
    """Fewest candles for which every indicator is defined on the last bar."""
    return max(params.channel_period + 1, params.atr_period + 1, 2 * params.adx_period)


def evaluate(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    params: BreakoutParams = DEFAULT_PARAMS,
) -> Setup | None:
    """The setup at the last candle, or None."""
    p = params
    h, lo, c = (np.asarray(x, dtype=np.float64) for x in (high, low, close))
    if c.ndim != 1 or len(c) < min_candles(p):
        return None
    # The channel of the bars before the last: the last bar breaks out of it.
    upper, lower = ind.donchian(h[:-1], lo[:-1], p.channel_period)
    values = {
        f"donchian_upper_{p.channel_period}": ind.last_value(upper),
        f"donchian_lower_{p.channel_period}": ind.last_value(lower),
        f"atr_{p.atr_period}": ind.last_value(ind.atr(h, lo, c, p.atr_period)),
        f"adx_{p.adx_period}": ind.last_value(ind.adx(h, lo, c, p.adx_period)),
    }
    if any(v is None or not math.isfinite(v) for v in values.values()):
        return None
    top, bottom = float(upper[-1]), float(lower[-1])
    atr = float(values[f"atr_{p.atr_period}"])  # type: ignore[arg-type]
    adx = float(values[f"adx_{p.adx_period}"])  # type: ignore[arg-type]
    entry = float(c[-1])
    if entry > top:
        direction, sign, edge = "buy", 1.0, top
    elif entry < bottom:
        direction, sign, edge = "sell", -1.0, bottom
    else:
        return None
    if adx < p.min_adx or atr <= 0:
        return None
    scores = (
        clip01(sign * (entry - edge) / atr / p.breakout_full_atr),
        clip01((adx - p.min_adx) / (p.adx_full - p.min_adx)),
    )
    score = weighted_score(scores, p.weights())
    risk = p.atr_stop_multiple * atr
    stop_loss, take_profit = entry - sign * risk, entry + sign * p.risk_reward * risk
    if not min(stop_loss, take_profit) < entry < max(stop_loss, take_profit):
        return None
    side = "above the highest high" if direction == "buy" else "below the lowest low"
    reasoning = (
        f"{direction.upper()}: close {entry:.6g} {side} of the previous "
        f"{p.channel_period} bars ({edge:.6g}); ADX{p.adx_period} {adx:.1f} >= "
        f"{p.min_adx:g}. Score {score:.2f} from breakout {scores[0]:.2f}, ADX "
        f"{scores[1]:.2f}. Stop {p.atr_stop_multiple:g} x ATR{p.atr_period} "
        f"({risk:.6g}), target {p.risk_reward:g}R."
    )
    return Setup(direction, score, entry, stop_loss, take_profit, values, reasoning)
