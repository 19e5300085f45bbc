"""Replay stored candles through the generator and outcome rules, writing nothing.

Setups come from `rules` (by default the vectorised `strategy.evaluate`); each becomes
the unsaved `Signal` the generator would build (the same price rounding and level
checks as `generation.signal_from_window`) and is resolved by
`outcomes.signal_resolve`, the function the `backfill_outcomes` command runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import numpy as np

from core.vocabulary import TIMEFRAME_SECONDS
from market.pricing import levels_error, signed_move
from signals.generation import signal_price
from signals.models import Signal
from signals.outcomes import CandleSeries, signal_resolve
from signals.strategies import trend_momentum as strategy

from .metrics import Trade
from .rules import Candles, Rules, Setups, indicator_arrays, trend_momentum

CONFIDENCE_STEP = Decimal("0.01")
R_STEP = Decimal("0.0001")


def candles_of(series: CandleSeries) -> Candles:
    """The float columns of stored candles."""
    prices = series.prices.reshape(-1, 4)
    return Candles(
        np.ascontiguousarray(prices[:, 0]),
        np.ascontiguousarray(prices[:, 1]),
        np.ascontiguousarray(prices[:, 2]),
        np.ascontiguousarray(prices[:, 3]),
    )


def stored_levels(
    setups: Setups, i: int, entry: Decimal
) -> tuple[str, Decimal, Decimal, Decimal] | None:
    """(direction, confidence, stop, target) as the generator would store them."""
    if not setups.sign[i]:
        return None
    direction = "buy" if setups.sign[i] > 0 else "sell"
    stop = signal_price(float(setups.stop_loss[i]))
    target = signal_price(float(setups.take_profit[i]))
    if levels_error(direction, entry, stop, target):
        return None  # a stop distance lost to rounding, as in the generator
    confidence = Decimal(repr(float(setups.confidence[i]))).quantize(CONFIDENCE_STEP)
    return direction, confidence, stop, target


def replay(
    series: CandleSeries,
    *,
    pair: str,
    timeframe: str,
    params: strategy.StrategyParams,
    lookback: int,
    expiry_bars: int,
    start: int = 0,
    rules: Rules = trend_momentum,
    cache: dict | None = None,
) -> list[Trade]:
    """Every signal the generator would have made from candle `start` on, resolved."""
    candles = candles_of(series)
    setups = rules(candles, params, lookback, cache)
    step = TIMEFRAME_SECONDS[timeframe]
    trades = []
    for i in setups.indexes().tolist():
        if i < start:
            continue
        stamp, *_, close = series.rows[i]
        entry = Decimal(close)
        levels = stored_levels(setups, i, entry)
        if levels is None:
            continue
        direction, confidence, stop, target = levels
        signal = Signal(
            pair=pair,
            timeframe=timeframe,
            timestamp=stamp,
            direction=direction,
            entry_price=entry,
            stop_loss=stop,
            take_profit=target,
            confidence=confidence,
        )
        found = signal_resolve(signal, series, expiry_bars)
        exit_index = r_multiple = None
        if found is not None:
            exit_at = (found.closed_at - timedelta(seconds=step)).timestamp()
            exit_index = int(np.searchsorted(series.stamps, exit_at))
            move = signed_move(direction, entry, found.exit_price)
            r_multiple = (move / abs(entry - stop)).quantize(R_STEP)
        trades.append(
            Trade(
                index=i,
                timestamp=stamp,
                direction=direction,
                entry_price=entry,
                stop_loss=stop,
                take_profit=target,
                confidence=confidence,
                score=confidence,
                status=found.status if found else "active",
                outcome=found.outcome if found else "pending",
                exit_price=found.exit_price if found else None,
                pips=found.pips if found else None,
                r_multiple=r_multiple,
                closed_at=found.closed_at if found else None,
                exit_index=exit_index,
            )
        )
    return trades


def known_by(trades: Sequence[Trade], index: int) -> list[Trade]:
    """The trades of candles before `index`, as they stood when it opened."""
    known = []
    for t in trades:
        if t.index >= index:
            continue
        if t.exit_index is not None and t.exit_index >= index:
            t = dataclasses.replace(
                t,
                status="active",
                outcome="pending",
                exit_price=None,
                pips=None,
                r_multiple=None,
                closed_at=None,
                exit_index=None,
            )
        known.append(t)
    return known


def lookahead_mismatches(
    series: CandleSeries,
    trades: Sequence[tuple[Trade, strategy.StrategyParams]],
    *,
    lookback: int,
    rules: Rules = trend_momentum,
) -> int:
    """Signals that differ when regenerated from the history cut at their own candle.

    The cut is what the live generator reads at that candle: its last `lookback`
    candles, nothing after it.
    """
    candles = candles_of(series)
    mismatches = 0
    for trade, params in trades:
        i = trade.index
        cut = candles.cut(max(0, i - lookback + 1), i + 1)
        again = stored_levels(
            rules(cut, params, lookback, None), len(cut) - 1, trade.entry_price
        )
        if again != (
            trade.direction,
            trade.score if trade.score is not None else trade.confidence,
            trade.stop_loss,
            trade.take_profit,
        ):
            mismatches += 1
    return mismatches


def warmup_changes(
    candles: Candles, params: strategy.StrategyParams, *, lookback: int, start: int
) -> dict[str, float | None]:
    """Largest relative change of each indicator from a `lookback` window to a 2x one.

    Over the candles from `start` on that have both windows full; None for all when
    there are none.
    """
    short = indicator_arrays(candles, params, lookback)
    long = indicator_arrays(candles, params, 2 * lookback)
    first = max(start, 2 * lookback - 1)
    changes: dict[str, float | None] = {}
    for key, values in short.items():
        a, b = values[first:], long[key][first:]
        usable = np.isfinite(a) & np.isfinite(b) & (b != 0)
        if not usable.any():
            changes[key] = None
            continue
        relative = np.abs(a[usable] - b[usable]) / np.abs(b[usable])
        changes[key] = float(relative.max())
    return changes
