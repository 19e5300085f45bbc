"""Backtest replay and walk-forward on 100,000 synthetic hourly candles of one pair.

    python bench/backtest.py

No database: the candles (a random walk with trending stretches, generated here) are
built in memory the way `candles_load` returns them. Timed, median of 3 each:

- floor: the indicator arrays alone, whole-series `signals.indicators` for the
  default parameters (what any replay must compute at least once);
- replay: `replay()` with the default parameters (windowed indicators, the rules at
  every candle, every setup built and resolved by `outcomes.signal_resolve`);
- walk-forward: `series_report()` with a 3x3 grid and 5 folds, without the audits,
  then once with them (the lookahead audit regenerates every reported signal).

Targets: replay <= 2 s, walk-forward <= 20 s.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402

from signals import indicators as ind  # noqa: E402
from signals.backtest.replay import replay  # noqa: E402
from signals.backtest.runs import BacktestOptions, series_report  # noqa: E402
from signals.generation import strategy_params  # noqa: E402
from signals.outcomes import CandleSeries  # noqa: E402

CANDLES = 100_000
GRID = "min_adx=15,20,25;risk_reward=1.5,2,2.5"
START = datetime(2015, 1, 1, tzinfo=UTC)


def synthetic_series(n: int, seed: int = 42) -> CandleSeries:
    """A random walk whose drift switches sign every few hundred candles."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.normal(0, 4e-4, n // 300 + 1), 300)[:n]
    close = 1.1 * np.exp(np.cumsum(drift + rng.normal(0, 1.5e-3, n)))
    opens = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(opens, close) * (1 + np.abs(rng.normal(0, 8e-4, n)))
    low = np.minimum(opens, close) * (1 - np.abs(rng.normal(0, 8e-4, n)))
    rows = [
        (
            START + timedelta(hours=i),
            Decimal(f"{opens[i]:.5f}"),
            Decimal(f"{high[i]:.5f}"),
            Decimal(f"{low[i]:.5f}"),
            Decimal(f"{close[i]:.5f}"),
        )
        for i in range(n)
    ]
    prices = np.array([row[1:] for row in rows], dtype=float)
    stamps = np.array([row[0].timestamp() for row in rows])
    return CandleSeries(stamps=stamps, prices=prices, rows=rows)


def median_seconds(fn: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def floor(series: CandleSeries) -> None:
    o, h, lo, c = (np.ascontiguousarray(col) for col in series.prices.T)
    ind.ema(c, 20), ind.ema(c, 50), ind.rsi(c, 14), ind.macd(c, 12, 26, 9)
    ind.atr(h, lo, c, 14), ind.adx(h, lo, c, 14), ind.bollinger(c, 20, 2.0)


def main() -> None:
    series = synthetic_series(CANDLES)
    params = strategy_params()
    floor_s, _ = median_seconds(lambda: floor(series))
    replay_s, trades = median_seconds(
        lambda: replay(
            series,
            pair="EUR/USD",
            timeframe="1h",
            params=params,
            lookback=settings.SIGNAL_LOOKBACK,
            expiry_bars=settings.SIGNAL_EXPIRY_BARS,
        )
    )
    options = BacktestOptions(pair="EUR/USD", timeframe="1h", folds=5, optimize=GRID)
    wf_s, report = median_seconds(
        lambda: series_report(series, options=options, audits=False)
    )
    audited_s, audited = median_seconds(
        lambda: series_report(series, options=options), runs=1
    )
    print(f"candles: {CANDLES:,}; signals (default parameters): {len(trades):,}")
    print(f"floor (indicator arrays alone): {floor_s:.3f} s")
    print(
        f"replay: {replay_s:.3f} s (target <= 2 s); "
        f"floor / replay = {floor_s / replay_s:.2f}"
    )
    print(
        f"walk-forward 3x3 grid, 5 folds, no audits: {wf_s:.2f} s (target <= 20 s); "
        f"{report['overall']['signals']:,} out-of-sample signals"
    )
    look = audited["lookahead"]
    print(
        f"the same with the audits: {audited_s:.2f} s "
        f"(lookahead: {look['mismatches']} mismatches in {look['checked']:,})"
    )


if __name__ == "__main__":
    main()
