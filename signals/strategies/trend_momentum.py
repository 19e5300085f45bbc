"""The default ``trend_momentum`` strategy: a pure, deterministic function of candles.

Indicators are computed once over the whole window the caller passes (the last
``SIGNAL_LOOKBACK`` candles) and read at the last bar. With the default parameters:

1. Trend. Up when EMA20 > EMA50 and the close is above EMA20; down when EMA20 < EMA50
   and the close is below EMA20. Otherwise there is no trend and no setup.
2. Momentum. Up when the MACD(12, 26, 9) histogram is > 0 and RSI14 > 50; down when
   the histogram is < 0 and RSI14 < 50. It must point the same way as the trend:
   up/up is a buy, down/down is a sell, anything else gives no setup.
3. Filters. No setup when ADX14 < 20 (no trend strength), when a buy has RSI14 > 70
   or a sell has RSI14 < 30 (exhausted move), or when ATR14 is 0 (no stop distance).
4. Confidence (0-100, two decimals) is the weighted mean of five scores, each from 0
   (no support) to 1 (full support), always measured in the trade's direction:
   trend: EMA20-EMA50 separation in ATRs, full at 2 ATR (weight 30);
   ADX: from 20 (0) to 45 (1) (weight 25);
   MACD: histogram in ATRs, full at 0.35 ATR (weight 20);
   RSI: distance from 50 towards the exhaustion bound, full at 70 / 30 (weight 15);
   Bollinger(20, 2): close position from the middle band (0) to the outer band (1)
   on the trade's side (weight 10).
   Setups below confidence 50 are dropped.
5. Levels. Entry is the last close. The stop is 1.5 x ATR14 below a buy's entry
   (above a sell's); the target is 2 x that distance beyond the entry on the other
   side, so a buy has stop < entry < target and a sell has target < entry < stop.

Every number above is a field of ``StrategyParams``. Because the EMAs and Wilder
averages depend on where the window starts, a window shorter than a few hundred
candles gives slightly different values than a long history would.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from numpy.typing import ArrayLike

from signals import indicators as ind
from signals.strategies.params import StrategyParams

from .base import Setup, clip01

__all__ = ["DEFAULT_PARAMS", "STRATEGY_NAME", "Setup", "StrategyParams", "evaluate"]

STRATEGY_NAME = "trend_momentum"


DEFAULT_PARAMS = StrategyParams()


def min_candles(params: StrategyParams = DEFAULT_PARAMS) -> int:
    """Fewest candles for which every indicator is defined on the last bar."""
    lookbacks = (
        params.ema_slow - 1,
        params.rsi_period,
        params.macd_slow + params.macd_signal - 2,
        params.atr_period,
        2 * params.adx_period - 1,
        params.bb_period - 1,
    )
    return max(lookbacks) + 1


def _indicators(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, p: StrategyParams
) -> dict[str, float | None]:
    """Last-bar indicator values with the strategy's periods."""
    return ind.snapshot(
        high,
        low,
        close,
        ema_fast=p.ema_fast,
        ema_slow=p.ema_slow,
        rsi_period=p.rsi_period,
        macd_periods=(p.macd_fast, p.macd_slow, p.macd_signal),
        atr_period=p.atr_period,
        adx_period=p.adx_period,
        bb_period=p.bb_period,
        bb_std=p.bb_std,
    )


def evaluate(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    params: StrategyParams = DEFAULT_PARAMS,
) -> Setup | None:
    """The setup at the last candle, or None when the rules do not all agree."""
    p = params
    c = np.asarray(close, dtype=np.float64)
    if c.ndim != 1 or len(c) < min_candles(p):
        return None
    values = _indicators(high, low, c, p)
    if any(v is None or not math.isfinite(v) for v in values.values()):
        return None
    v = cast(dict[str, float], values)  # None ruled out just above
    entry = float(c[-1])
    fast, slow = v[f"ema_{p.ema_fast}"], v[f"ema_{p.ema_slow}"]
    rsi, hist = v[f"rsi_{p.rsi_period}"], v["macd_hist"]
    atr, adx = v[f"atr_{p.atr_period}"], v[f"adx_{p.adx_period}"]

    if fast > slow and entry > fast and hist > 0 and rsi > 50:
        direction, sign, rsi_bound = "buy", 1.0, p.rsi_buy_max
    elif fast < slow and entry < fast and hist < 0 and rsi < 50:
        direction, sign, rsi_bound = "sell", -1.0, p.rsi_sell_min
    else:
        return None
    exhausted = rsi > rsi_bound if direction == "buy" else rsi < rsi_bound
    if adx < p.min_adx or exhausted or atr <= 0:
        return None

    half_band = (v["bb_upper"] - v["bb_lower"]) / 2
    scores = (
        clip01(sign * (fast - slow) / atr / p.trend_full_atr),
        clip01((adx - p.min_adx) / (p.adx_full - p.min_adx)),
        clip01(sign * hist / atr / p.macd_full_atr),
        clip01((rsi - 50) / (rsi_bound - 50)),
        clip01(sign * (entry - v["bb_middle"]) / half_band) if half_band > 0 else 0.0,
    )
    weights = p._weights()
    weighted = sum(w * s for w, s in zip(weights, scores, strict=True))
    confidence = round(min(max(100 * weighted / sum(weights), 0.0), 100.0), 2)
    if confidence < p.min_confidence:
        return None

    risk = p.atr_stop_multiple * atr
    stop_loss = entry - sign * risk
    take_profit = entry + sign * p.risk_reward * risk
    # Guard against a stop distance too small to move a float price.
    if not min(stop_loss, take_profit) < entry < max(stop_loss, take_profit):
        return None

    side, relation = ("up", "above") if direction == "buy" else ("down", "below")
    names = ("trend", "ADX", "MACD", "RSI", "Bollinger")
    score_text = ", ".join(f"{n} {s:.2f}" for n, s in zip(names, scores, strict=True))
    reasoning = (
        f"{direction.upper()}: {side}trend (EMA{p.ema_fast} {fast:.6g} {relation} "
        f"EMA{p.ema_slow} {slow:.6g}, close {entry:.6g} {relation} EMA{p.ema_fast}) "
        f"with {side}ward momentum (MACD histogram {hist:+.3g}, RSI{p.rsi_period} "
        f"{rsi:.1f} {relation} 50, within {rsi_bound:g}); ADX{p.adx_period} "
        f"{adx:.1f} >= {p.min_adx:g}. Confidence {confidence:.2f} from scores "
        f"{score_text}. Stop {p.atr_stop_multiple:g} x ATR{p.atr_period} "
        f"({risk:.6g}) from entry, target {p.risk_reward:g}R."
    )
    return Setup(
        direction=direction,
        confidence=confidence,
        entry=entry,
        stop_loss=stop_loss,
        take_profit=take_profit,
        indicators=values,
        reasoning=reasoning,
    )
