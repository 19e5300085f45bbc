"""Indicator arrays as the live generator sees them, for every candle at once (pure).

The generator reads the last `lookback` candles up to a candle and computes the
indicators over that window, so the EMAs and Wilder averages at a candle depend on
where its window starts. Recomputing every window costs O(candles x lookback).
Instead each indicator is computed once over the whole series (by
`signals.indicators`, the production code) and then corrected for the window's
own seed: the EMA and Wilder recursions are linear, x_t = a x_(t-1) + b v_t, so a
window's value is the whole-series value plus a^(steps since the seed) times
(the window's seed - the whole-series value at the seed bar). This holds exactly
for the EMAs, MACD (line and signal), RSI's average gain and loss, ATR and the
smoothed sums behind ADX. ADX itself smooths DX, a ratio of those sums: its seed
is recomputed exactly from the window's own DX values; afterwards the windowed DX
differs from the whole-series one by a term that decays like (1 - 1/n)^(steps),
which is left out (below 1e-12 relative once the window is a few hundred bars).

Candles whose window starts at the first candle (the first `lookback`) take the
whole-series values as they are, which is exactly what the generator computes.
The equality with the live generator is tested on real data (test_backtest_replay).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from signals import indicators as ind
from signals.indicators import FloatArray

_TA_EPSILON = 1e-14


def window_starts(n: int, lookback: int) -> np.ndarray:
    """Index of the first candle of each candle's window."""
    return np.maximum(np.arange(n) - lookback + 1, 0)


def _sliding(x: FloatArray, width: int, how: str) -> FloatArray:
    """Sum or mean of x[t-width+1 .. t] at t (NaN before width candles)."""
    out = np.full(len(x), np.nan)
    if 0 < width <= len(x):
        view = sliding_window_view(x, width)
        out[width - 1 :] = view.mean(axis=1) if how == "mean" else view.sum(axis=1)
    return out


def _aligned(values: FloatArray | list[float], n: int, first: int) -> FloatArray:
    """An array of length n holding `values` from index `first` on, NaN before."""
    out = np.full(n, np.nan)
    if first < n:
        out[first:] = values[: n - first]
    return out


class _Lanes:
    """Per-candle bookkeeping: which candles have a window that starts later than 0."""

    def __init__(self, n: int, lookback: int) -> None:
        self.n = n
        self.index = np.arange(n)
        self.starts = window_starts(n, lookback)
        self.shifted = self.starts > 0

    def seeded(
        self,
        whole: FloatArray,
        seed_values: FloatArray,
        offset: int,
        decay: float,
        steps: np.ndarray | None = None,
    ) -> FloatArray:
        """Whole-series values moved onto each candle's own window seed.

        The window of candle i seeds its recursion at starts[i] + offset with
        seed_values[that bar]; `steps` counts the recursion steps from the seed to
        each bar (default: the distance in bars).
        """
        seed_at = self.starts + offset
        valid = seed_at <= self.index
        out = whole.copy()
        lanes = self.shifted & valid
        at = seed_at[lanes]
        count = (self.index - seed_at if steps is None else steps)[lanes]
        out[lanes] = whole[lanes] + decay ** count.astype(float) * (
            seed_values[at] - whole[at]
        )
        out[~valid] = np.nan
        return out


def ema(x: FloatArray, period: int, lanes: _Lanes, start: int = 0) -> FloatArray:
    """TA-Lib EMA seeded at `start` of each window."""
    whole = ind.ema_from(x, period, start)
    seeds = _sliding(x, period, "mean")
    return lanes.seeded(whole, seeds, start + period - 1, 1.0 - 2.0 / (period + 1))


def _geometric(q: float, r: float, m: np.ndarray) -> FloatArray:
    """sum over u in [0, m) of q^(m-1-u) r^u."""
    m = m.astype(float)
    if q == r:
        return m * q ** np.maximum(m - 1, 0)
    return (q**m - r**m) / (q - r)


def macd(
    x: FloatArray, fast: int, slow: int, signal: int, lanes: _Lanes
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MACD line, signal and histogram over each candle's window (TA-Lib MACD)."""
    fast_whole = ind.ema_from(x, fast, slow - fast)
    slow_whole = ind.ema_from(x, slow, 0)
    fast_w = ema(x, fast, lanes, start=slow - fast)
    slow_w = ema(x, slow, lanes, start=0)
    line_whole = fast_whole - slow_whole
    sig_whole = ind.ema_from(line_whole, signal, slow - 1)
    line_w = fast_w - slow_w

    # Both line EMAs are seeded at t0 = start + slow - 1 of the window.
    rf, rs = 1.0 - 2.0 / (fast + 1), 1.0 - 2.0 / (slow + 1)
    q, k = 1.0 - 2.0 / (signal + 1), 2.0 / (signal + 1)
    sig_w = sig_whole.copy()
    t0 = lanes.starts + slow - 1
    t1 = t0 + signal - 1
    lanes_ok = lanes.shifted & (t1 <= lanes.index)
    idx = lanes.index[lanes_ok]
    t0_l, t1_l = t0[lanes_ok], t1[lanes_ok]
    d_fast = _sliding(x, fast, "mean")[t0_l] - fast_whole[t0_l]
    d_slow = _sliding(x, slow, "mean")[t0_l] - slow_whole[t0_l]
    j = np.arange(signal, dtype=float)
    first_lines = (
        line_whole[t0_l[:, None] + np.arange(signal)]
        + d_fast[:, None] * rf**j
        - d_slow[:, None] * rs**j
    )
    seed_w = first_lines.mean(axis=1)
    m = idx - t1_l
    drift = k * (
        d_fast * rf**signal * _geometric(q, rf, m)
        - d_slow * rs**signal * _geometric(q, rs, m)
    )
    sig_w[idx] = (
        sig_whole[idx] + q ** m.astype(float) * (seed_w - sig_whole[t1_l]) + drift
    )
    sig_w[lanes.index < t1] = np.nan
    line_w[np.isnan(sig_w)] = np.nan
    return line_w, sig_w, line_w - sig_w


def _wilder_mean_whole(values: FloatArray, period: int, n: int) -> FloatArray:
    """Wilder mean of values[1:] (values[0] is undefined) as TA-Lib seeds it."""
    xs = values[1:]
    if len(xs) < period:
        return np.full(n, np.nan)
    means = ind.wilder_mean(xs[:period].sum() / period, xs[period:], period)
    return _aligned(np.asarray(means), n, period)


def rsi(x: FloatArray, period: int, lanes: _Lanes) -> FloatArray:
    """Wilder RSI over each candle's window (TA-Lib RSI)."""
    n = lanes.n
    diff = np.concatenate(([np.nan], np.diff(x)))
    gain = np.where(diff > 0, diff, 0.0)
    loss = np.where(diff < 0, -diff, 0.0)
    decay = (period - 1) / period
    averages = []
    for moves in (gain, loss):
        whole = _wilder_mean_whole(moves, period, n)
        seeds = _sliding(moves, period, "sum") / period
        seeds[:period] = np.nan
        averages.append(lanes.seeded(whole, seeds, period, decay))
    avg_gain, avg_loss = averages
    total = avg_gain + avg_loss
    flat = np.abs(total) < _TA_EPSILON
    with np.errstate(invalid="ignore"):
        return np.where(flat, 0.0, 100.0 * avg_gain / np.where(flat, 1.0, total))


def true_range(h: FloatArray, lo: FloatArray, c: FloatArray) -> FloatArray:
    """True range aligned with the candles (NaN at the first)."""
    return np.concatenate(([np.nan], ind.true_range(h, lo, c)))


def atr(
    h: FloatArray, lo: FloatArray, c: FloatArray, period: int, lanes: _Lanes
) -> FloatArray:
    """Wilder ATR over each candle's window (TA-Lib ATR)."""
    tr = true_range(h, lo, c)
    whole = ind.atr(h, lo, c, period)
    seeds = _sliding(tr, period, "sum") / period
    return lanes.seeded(whole, seeds, period, (period - 1) / period)


def _dx(plus: FloatArray, minus: FloatArray, tr: FloatArray) -> FloatArray:
    """DX from the smoothed sums, in the operation order of `indicators.adx`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        plus_di = 100.0 * (plus / tr)
        minus_di = 100.0 * (minus / tr)
        di_sum = minus_di + plus_di
        dx = 100.0 * (np.abs(minus_di - plus_di) / di_sum)
    dx[(np.abs(tr) < _TA_EPSILON) | (np.abs(di_sum) < _TA_EPSILON)] = np.nan
    return dx


def adx(
    h: FloatArray, lo: FloatArray, c: FloatArray, period: int, lanes: _Lanes
) -> FloatArray:
    """Wilder ADX over each candle's window (TA-Lib ADX; see the module docstring)."""
    n, head, r = lanes.n, period - 1, 1.0 - 1.0 / period
    if n < 2 * period:
        return np.full(n, np.nan)
    up = np.concatenate(([np.nan], h[1:] - h[:-1]))
    down = np.concatenate(([np.nan], lo[:-1] - lo[1:]))
    moves = {
        "plus": np.where((up > 0) & (up > down), up, 0.0),
        "minus": np.where((down > 0) & (down > up), down, 0.0),
        "tr": true_range(h, lo, c),
    }
    whole_sums, windowed_sums, deltas = {}, {}, {}
    ok = lanes.shifted & (lanes.starts + 2 * period - 1 <= lanes.index)
    seed_at = (lanes.starts + head)[ok]
    for name, values in moves.items():
        # Sums seeded over bars 1..period-1 of the window; smoothed from bar period.
        seed = values[1:period].sum()
        smoothed = ind.wilder_sum(seed, values[period:], period)
        whole = _aligned(np.asarray([seed, *smoothed]), n, head)
        seeds = _sliding(values, head, "sum")
        whole_sums[name] = whole
        windowed_sums[name] = lanes.seeded(whole, seeds, head, r)
        deltas[name] = seeds[seed_at] - whole[seed_at]

    whole_dx = _dx(whole_sums["plus"], whole_sums["minus"], whole_sums["tr"])
    whole_adx = ind.adx(h, lo, c, period)
    out = whole_adx.copy()
    # The window's ADX seed: the mean of its first `period` DX values, recomputed.
    j = np.arange(period)
    at = seed_at[:, None] + 1 + j
    factor = r ** (j + 1.0)
    first = {
        name: whole_sums[name][at] + deltas[name][:, None] * factor for name in moves
    }
    seed_w = np.nansum(_dx(first["plus"], first["minus"], first["tr"]), axis=1)
    seed_w = seed_w / period
    a0 = lanes.starts[ok] + 2 * period - 1
    # ADX carries over undefined DX without a step, so count the defined ones.
    defined = np.cumsum(np.isfinite(whole_dx))
    idx = lanes.index[ok]
    steps = (defined[idx] - defined[a0]).astype(float)
    out[idx] = whole_adx[idx] + r**steps * (seed_w - whole_adx[a0])
    out[lanes.index < lanes.starts + 2 * period - 1] = np.nan
    return out


def bollinger(
    x: FloatArray, period: int, num_std: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands: window-local, so the whole-series values are the windowed."""
    return ind.bollinger(x, period, num_std)


def lanes_for(n: int, lookback: int) -> _Lanes:
    """The per-candle window bookkeeping the functions above take."""
    return _Lanes(n, lookback)
