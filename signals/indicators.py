"""Technical indicators in NumPy that reproduce TA-Lib bar for bar (no Django imports).

Every function takes 1-D float arrays and returns float64 arrays of the same length,
NaN over TA-Lib's lookback. Seeds and recursions follow TA-Lib's C code exactly, so
results agree with ``talib`` to rounding error.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

# TA-Lib's TA_IS_ZERO band: it outputs 0 instead of dividing by anything this small.
_TA_EPSILON = 1e-14


def _series(values: ArrayLike) -> FloatArray:
    """Coerce input to a contiguous 1-D float64 array."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D series, got shape {arr.shape}")
    return arr


def _hlc(high: ArrayLike, low: ArrayLike, close: ArrayLike) -> tuple[FloatArray, ...]:
    """Coerce high/low/close and check they have one length."""
    h, lo, c = _series(high), _series(low), _series(close)
    if not len(h) == len(lo) == len(c):
        raise ValueError("high, low and close must have the same length")
    return h, lo, c


def _check_period(period: int, minimum: int = 2) -> None:
    """Reject periods TA-Lib would reject."""
    if not isinstance(period, int | np.integer) or period < minimum:
        raise ValueError(f"period must be an integer >= {minimum}, got {period!r}")


def ema_from(x: FloatArray, period: int, start: int) -> FloatArray:
    """EMA seeded with the SMA of x[start:start+period]; NaN before the seed bar."""
    out = np.full(len(x), np.nan)
    seed_at = start + period - 1
    if seed_at >= len(x):
        return out
    k = 2.0 / (period + 1)
    prev = float(x[start : seed_at + 1].mean())
    vals = [prev]
    # The recursion is inherently sequential; TA-Lib's own operation order is kept.
    for v in x[seed_at + 1 :].tolist():
        prev = (v - prev) * k + prev
        vals.append(prev)
    out[seed_at:] = vals
    return out


def wilder_mean(seed: float, xs: FloatArray, period: int) -> list[float]:
    """Wilder's running mean ((prev*(n-1) + x) / n) from seed over xs, seed first."""
    prev, out, m = seed, [seed], period - 1
    for v in xs.tolist():
        prev = (prev * m + v) / period
        out.append(prev)
    return out


def wilder_sum(seed: float, xs: FloatArray, period: int) -> list[float]:
    """Wilder's running sum (prev - prev/n + x) from seed over xs, seed excluded."""
    prev, out = seed, []
    for v in xs.tolist():
        prev = prev - prev / period + v
        out.append(prev)
    return out


def true_range(h: FloatArray, lo: FloatArray, c: FloatArray) -> FloatArray:
    """True range from bar 1 on (bar 0 has no previous close)."""
    prev_close = c[:-1]
    return np.maximum.reduce(
        [h[1:] - lo[1:], np.abs(h[1:] - prev_close), np.abs(lo[1:] - prev_close)]
    )


def sma(values: ArrayLike, period: int) -> FloatArray:
    """Simple moving average (TA-Lib SMA)."""
    _check_period(period)
    x = _series(values)
    out = np.full(len(x), np.nan)
    if len(x) >= period:
        out[period - 1 :] = sliding_window_view(x, period).mean(axis=1)
    return out


def ema(values: ArrayLike, period: int) -> FloatArray:
    """Exponential moving average seeded with the first period's SMA (TA-Lib EMA)."""
    _check_period(period)
    return ema_from(_series(values), period, 0)


def rsi(close: ArrayLike, period: int = 14) -> FloatArray:
    """Wilder RSI seeded with mean gain/loss; 0 when nothing moves (as TA-Lib)."""
    _check_period(period)
    x = _series(close)
    out = np.full(len(x), np.nan)
    if len(x) <= period:
        return out
    diff = np.diff(x)
    gain = np.where(diff > 0, diff, 0.0)
    loss = np.where(diff < 0, -diff, 0.0)
    avg_gain = np.array(
        wilder_mean(gain[:period].sum() / period, gain[period:], period)
    )
    avg_loss = np.array(
        wilder_mean(loss[:period].sum() / period, loss[period:], period)
    )
    total = avg_gain + avg_loss
    flat = np.abs(total) < _TA_EPSILON
    out[period:] = np.where(flat, 0.0, 100.0 * avg_gain / np.where(flat, 1.0, total))
    return out


def macd(
    close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MACD line, signal line and histogram (TA-Lib MACD)."""
    _check_period(fast)
    _check_period(slow)
    _check_period(signal, minimum=1)
    if slow < fast:  # TA-Lib swaps them rather than failing.
        fast, slow = slow, fast
    x = _series(close)
    # TA-Lib starts the fast EMA where the slow one starts, not at bar 0.
    line = ema_from(x, fast, slow - fast) - ema_from(x, slow, 0)
    sig = ema_from(line, signal, slow - 1)
    # TA-Lib reports the line only from the first bar that has a signal value.
    line[: slow + signal - 2] = np.nan
    return line, sig, line - sig


def atr(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> FloatArray:
    """Wilder average true range seeded with the simple mean of TR (TA-Lib ATR)."""
    _check_period(period, minimum=1)
    h, lo, c = _hlc(high, low, close)
    out = np.full(len(c), np.nan)
    if len(c) <= period:
        return out
    tr = true_range(h, lo, c)
    out[period:] = wilder_mean(tr[:period].sum() / period, tr[period:], period)
    return out


def adx(
    high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14
) -> FloatArray:
    """Wilder ADX with DM/TR seeded as sums (TA-Lib ADX)."""
    _check_period(period)
    h, lo, c = _hlc(high, low, close)
    n = len(c)
    out = np.full(n, np.nan)
    if n < 2 * period:
        return out
    up, down = h[1:] - h[:-1], lo[:-1] - lo[1:]
    plus_dm = np.where((up > 0) & (up > down), up, 0.0)
    minus_dm = np.where((down > 0) & (down > up), down, 0.0)
    tr = true_range(h, lo, c)
    # Seed sums cover bars 1..period-1; the smoothed values start at bar `period`.
    head = period - 1
    tr_s = np.array(wilder_sum(tr[:head].sum(), tr[head:], period))
    plus_s = np.array(wilder_sum(plus_dm[:head].sum(), plus_dm[head:], period))
    minus_s = np.array(wilder_sum(minus_dm[:head].sum(), minus_dm[head:], period))
    with np.errstate(divide="ignore", invalid="ignore"):
        plus_di = 100.0 * (plus_s / tr_s)
        minus_di = 100.0 * (minus_s / tr_s)
        di_sum = minus_di + plus_di
        dx = 100.0 * (np.abs(minus_di - plus_di) / di_sum)
    # TA-Lib leaves DX undefined (NaN here) when TR or the DI sum is zero.
    dx[(np.abs(tr_s) < _TA_EPSILON) | (np.abs(di_sum) < _TA_EPSILON)] = np.nan
    # First ADX: undefined DX count as 0 in the sum but the divisor stays `period`.
    prev = float(np.nansum(dx[:period])) / period
    vals = [prev]
    m = period - 1
    for d in dx[period:].tolist():
        if not math.isnan(d):  # Undefined DX carries the last ADX on, as in TA-Lib.
            prev = (prev * m + d) / period
        vals.append(prev)
    out[2 * period - 1 :] = vals
    return out


def bollinger(
    close: ArrayLike, period: int = 20, num_std: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Upper, middle (SMA) and lower bands at num_std population std devs (BBANDS)."""
    _check_period(period)
    x = _series(close)
    middle = sma(x, period)
    std = np.full(len(x), np.nan)
    if len(x) >= period:
        std[period - 1 :] = sliding_window_view(x, period).std(axis=1)
    width = std * num_std
    return middle + width, middle, middle - width


def snapshot(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    *,
    ema_fast: int = 20,
    ema_slow: int = 50,
    rsi_period: int = 14,
    macd_periods: tuple[int, int, int] = (12, 26, 9),
    atr_period: int = 14,
    adx_period: int = 14,
    bb_period: int = 20,
    bb_std: float = 2.0,
) -> dict[str, float | None]:
    """Indicator values at the last bar (None where not yet defined), keyed by
    name and period: ema_20, ema_50, rsi_14, macd, macd_signal, macd_hist, atr_14,
    adx_14, bb_upper, bb_middle, bb_lower with the default periods."""
    h, lo, c = _hlc(high, low, close)
    line, sig, hist = macd(c, *macd_periods)
    upper, middle, lower = bollinger(c, bb_period, bb_std)
    series = {
        f"ema_{ema_fast}": ema(c, ema_fast),
        f"ema_{ema_slow}": ema(c, ema_slow),
        f"rsi_{rsi_period}": rsi(c, rsi_period),
        "macd": line,
        "macd_signal": sig,
        "macd_hist": hist,
        f"atr_{atr_period}": atr(h, lo, c, atr_period),
        f"adx_{adx_period}": adx(h, lo, c, adx_period),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
    }
    return {key: last_value(arr) for key, arr in series.items()}


def last_value(arr: FloatArray) -> float | None:
    """The last element as a Python float, or None when empty or NaN."""
    if len(arr) == 0 or math.isnan(arr[-1]):
        return None
    return float(arr[-1])


def donchian(
    high: ArrayLike, low: ArrayLike, period: int = 20
) -> tuple[FloatArray, FloatArray]:
    """Donchian channel: the highest high and lowest low of the `period` bars
    ending at each bar (TA-Lib MAX and MIN); NaN before the first full window."""
    _check_period(period)
    h, lo = _series(high), _series(low)
    if len(h) != len(lo):
        raise ValueError("high and low must have the same length")
    upper, lower = np.full(len(h), np.nan), np.full(len(h), np.nan)
    if len(h) >= period:
        upper[period - 1 :] = sliding_window_view(h, period).max(axis=1)
        lower[period - 1 :] = sliding_window_view(lo, period).min(axis=1)
    return upper, lower
