"""The strategy's rules at every candle at once, from windowed indicator arrays (pure).

`trend_momentum` is `signals.strategy.evaluate` written over arrays: the same
indicators (as the live window sees them, see `windowed`), the same comparisons and
the same arithmetic in the same order, so a candle gives the setup the live
generator would give on it. A rules function takes the candles and returns a
`Setups`; the lookahead audit calls it again on the history cut at each signal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from signals.indicators import FloatArray
from signals.strategies import REGISTRY
from signals.strategies import trend_momentum as strategy

from . import windowed


@dataclass(frozen=True)
class Candles:
    """One pair's candles, oldest first, as float columns."""

    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray

    def __len__(self) -> int:
        return len(self.close)

    def cut(self, start: int, stop: int) -> Candles:
        """The candles [start, stop)."""
        return Candles(
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
        )


@dataclass(frozen=True)
class Setups:
    """Per candle: +1 buy, -1 sell, 0 nothing; and the setup's numbers where not 0."""

    sign: np.ndarray
    confidence: FloatArray
    stop_loss: FloatArray
    take_profit: FloatArray

    def indexes(self) -> np.ndarray:
        return np.flatnonzero(self.sign)


Rules = Callable[[Candles, strategy.StrategyParams, int, dict | None], Setups]

# Past this bound on ADX's left-out drift the windowed arrays are not trusted.
_ADX_DRIFT_LIMIT = 1e-11


def indicator_arrays(
    candles: Candles,
    p: strategy.StrategyParams,
    lookback: int,
    cache: dict | None = None,
) -> dict[str, FloatArray]:
    """The strategy's indicators at every candle, keyed as `strategy.evaluate` keys."""
    cache = {} if cache is None else cache
    h, lo, c = candles.high, candles.low, candles.close
    lanes = _cached(
        cache, ("lanes", len(c), lookback), windowed.lanes_for, len(c), lookback
    )

    def get(key: tuple, fn: Callable[..., Any], *args: Any) -> Any:
        return _cached(cache, (*key, lookback), fn, *args)

    line, sig, hist = get(
        ("macd", p.macd_fast, p.macd_slow, p.macd_signal),
        windowed.macd,
        c,
        p.macd_fast,
        p.macd_slow,
        p.macd_signal,
        lanes,
    )
    upper, middle, lower = get(
        ("bb", p.bb_period, p.bb_std), windowed.bollinger, c, p.bb_period, p.bb_std
    )
    return {
        f"ema_{p.ema_fast}": get(
            ("ema", p.ema_fast), windowed.ema, c, p.ema_fast, lanes
        ),
        f"ema_{p.ema_slow}": get(
            ("ema", p.ema_slow), windowed.ema, c, p.ema_slow, lanes
        ),
        f"rsi_{p.rsi_period}": get(
            ("rsi", p.rsi_period), windowed.rsi, c, p.rsi_period, lanes
        ),
        "macd": line,
        "macd_signal": sig,
        "macd_hist": hist,
        f"atr_{p.atr_period}": get(
            ("atr", p.atr_period), windowed.atr, h, lo, c, p.atr_period, lanes
        ),
        f"adx_{p.adx_period}": get(
            ("adx", p.adx_period), windowed.adx, h, lo, c, p.adx_period, lanes
        ),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
    }


def _cached(cache: dict, key: tuple, fn: Callable[..., Any], *args: Any) -> Any:
    if key not in cache:
        cache[key] = fn(*args)
    return cache[key]


def adx_drift_bound(lookback: int, period: int) -> float:
    """Upper estimate of the relative ADX drift `windowed` leaves out."""
    steps = lookback - 2 * period
    return (1.0 - 1.0 / period) ** max(steps, 0) * lookback / period * 100.0


def trend_momentum(
    candles: Candles,
    params: strategy.StrategyParams = strategy.DEFAULT_PARAMS,
    lookback: int = 500,
    cache: dict | None = None,
) -> Setups:
    """`strategy.evaluate` at every candle over its window of `lookback` candles."""
    if adx_drift_bound(lookback, params.adx_period) > _ADX_DRIFT_LIMIT:
        return per_window(strategy.evaluate, candles, params, lookback)
    p, n = params, len(candles)
    v = indicator_arrays(candles, p, lookback, cache)
    entry = candles.close
    fast, slow = v[f"ema_{p.ema_fast}"], v[f"ema_{p.ema_slow}"]
    rsi, hist = v[f"rsi_{p.rsi_period}"], v["macd_hist"]
    atr, adx = v[f"atr_{p.atr_period}"], v[f"adx_{p.adx_period}"]

    window = np.minimum(np.arange(n) + 1, lookback)
    ready = window >= strategy.min_candles(p)
    for values in v.values():
        ready &= np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        buy = ready & (fast > slow) & (entry > fast) & (hist > 0) & (rsi > 50)
        sell = ready & ~buy & (fast < slow) & (entry < fast) & (hist < 0) & (rsi < 50)
        sign = np.where(buy, 1.0, np.where(sell, -1.0, 0.0))
        bound = np.where(buy, p.rsi_buy_max, p.rsi_sell_min)
        exhausted = np.where(buy, rsi > bound, rsi < bound)
        keep = (buy | sell) & ~((adx < p.min_adx) | exhausted | (atr <= 0))

        half_band = (v["bb_upper"] - v["bb_lower"]) / 2
        scores = (
            _clip01(sign * (fast - slow) / atr / p.trend_full_atr),
            _clip01((adx - p.min_adx) / (p.adx_full - p.min_adx)),
            _clip01(sign * hist / atr / p.macd_full_atr),
            _clip01((rsi - 50) / (bound - 50)),
            np.where(
                half_band > 0,
                _clip01(sign * (entry - v["bb_middle"]) / half_band),
                0.0,
            ),
        )
    weights = p._weights()
    weighted = weights[0] * scores[0]
    for w, s in zip(weights[1:], scores[1:], strict=True):
        weighted = weighted + w * s
    raw = np.minimum(np.maximum(100 * weighted / sum(weights), 0.0), 100.0)
    confidence = np.full(n, np.nan)
    # Python's round() rounds the binary value exactly; numpy's does not.
    for i in np.flatnonzero(keep).tolist():
        confidence[i] = round(float(raw[i]), 2)
    keep &= confidence >= p.min_confidence

    risk = p.atr_stop_multiple * atr
    stop = entry - sign * risk
    target = entry + sign * p.risk_reward * risk
    keep &= (np.minimum(stop, target) < entry) & (entry < np.maximum(stop, target))
    return Setups(
        sign=np.where(keep, sign, 0.0).astype(np.int8),
        confidence=np.where(keep, confidence, np.nan),
        stop_loss=np.where(keep, stop, np.nan),
        take_profit=np.where(keep, target, np.nan),
    )


def _clip01(x: FloatArray) -> FloatArray:
    return np.minimum(np.maximum(x, 0.0), 1.0)


def per_window(
    evaluate: Callable[..., strategy.Setup | None],
    candles: Candles,
    params: strategy.StrategyParams,
    lookback: int,
    start: int = 0,
) -> Setups:
    """An `evaluate(high, low, close, params)` run on each candle's own window."""
    n = len(candles)
    sign = np.zeros(n, dtype=np.int8)
    numbers = np.full((3, n), np.nan)
    for i in range(start, n):
        s = max(0, i - lookback + 1)
        found = evaluate(
            candles.high[s : i + 1],
            candles.low[s : i + 1],
            candles.close[s : i + 1],
            params,
        )
        if found is not None and math.isfinite(found.confidence):
            sign[i] = 1 if found.direction == "buy" else -1
            numbers[:, i] = (found.confidence, found.stop_loss, found.take_profit)
    return Setups(sign, numbers[0], numbers[1], numbers[2])


def rules_for(name: str) -> Rules:
    """The rules of a registered strategy at every candle: trend_momentum's
    vectorised ones, else its `evaluate` on each candle's own window."""
    if name == strategy.STRATEGY_NAME:
        return trend_momentum
    module = REGISTRY[name].implementation()

    def rules(
        candles: Candles, params: Any, lookback: int, cache: dict | None = None
    ) -> Setups:
        return per_window(module.evaluate, candles, params, lookback)

    return rules
