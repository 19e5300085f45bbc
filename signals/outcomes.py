"""Outcome resolution: close active signals from the candles that followed them."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
from django.conf import settings

from core.vocabulary import TIMEFRAME_SECONDS
from market.models import Candle
from market.pricing import pip_size, pips

from . import resolution
from .choices import Outcome, Status
from .models import Signal
from .services import Resolution, signals_resolve

PIPS_STEP = Decimal("0.0001")
ZERO = Decimal(0)


@dataclass
class BackfillReport:
    examined: int = 0
    resolved: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    still_active: int = 0


@dataclass(frozen=True)
class CandleSeries:
    """One pair's candles after some moment: floats to compare, Decimals to report."""

    stamps: np.ndarray  # epoch seconds
    prices: np.ndarray  # open, high, low, close as float columns
    rows: list[tuple]  # (timestamp, open, high, low, close) as stored

    @classmethod
    def load(cls, pair: str, timeframe: str, after: Any) -> "CandleSeries":
        rows = list(
            Candle.objects.series(pair, timeframe)
            .filter(timestamp__gt=after)
            .order_by("timestamp")
            .values_list("timestamp", "open", "high", "low", "close")
        )
        prices = np.array([row[1:] for row in rows], dtype=float).reshape(-1, 4)
        stamps = np.array([row[0].timestamp() for row in rows], dtype=float)
        return cls(stamps=stamps, prices=prices, rows=rows)


class Candidate(NamedTuple):
    """What signal_resolve reads of an active signal, loaded without a model."""

    pk: int
    pair: str
    timeframe: str
    direction: str
    entry_price: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    timestamp: Any


def signal_resolve(
    signal: Signal | Candidate, candles: CandleSeries, expiry_bars: int
) -> Resolution | None:
    """The signal's exit from the candles after its own, or None while undecided."""
    start = int(np.searchsorted(candles.stamps, signal.timestamp.timestamp(), "right"))
    window = candles.prices[start : start + expiry_bars]
    opens, highs, lows = window[:, 0], window[:, 1], window[:, 2]
    found = resolution.first_exit(
        signal.direction,
        float(signal.stop_loss),
        float(signal.take_profit),
        opens,
        highs,
        lows,
        expiry_bars,
    )
    if found is None:
        return None
    stamp, open_, _, _, close = candles.rows[start + found.index]
    exit_price = {
        resolution.TARGET: signal.take_profit,
        resolution.STOP: signal.stop_loss,
        resolution.TARGET_AT_OPEN: open_,
        resolution.STOP_AT_OPEN: open_,
        resolution.EXPIRED: close,
    }[found.kind]
    pip = pip_size(signal.pair, settings.PIP_SIZES)
    result = pips(signal.direction, signal.entry_price, exit_price, pip)
    if found.kind in (resolution.TARGET, resolution.TARGET_AT_OPEN):
        status, outcome = Status.CLOSED, Outcome.WIN
    elif found.kind in (resolution.STOP, resolution.STOP_AT_OPEN):
        status, outcome = Status.CLOSED, Outcome.LOSS
    else:
        status = Status.EXPIRED
        outcome = (
            Outcome.WIN
            if result > 0
            else Outcome.LOSS
            if result < 0
            else Outcome.BREAKEVEN
        )
    top, bottom = resolution.excursion_indexes(highs, lows, found.index)
    high = candles.rows[start + top][2]
    low = candles.rows[start + bottom][3]
    favourable, adverse = (high, low) if signal.direction == "buy" else (low, high)
    return Resolution(
        signal_id=signal.pk,
        status=status,
        outcome=outcome,
        exit_price=exit_price,
        pips=result.quantize(PIPS_STEP),
        mfe_pips=max(
            pips(signal.direction, signal.entry_price, favourable, pip), ZERO
        ).quantize(PIPS_STEP),
        mae_pips=max(
            -pips(signal.direction, signal.entry_price, adverse, pip), ZERO
        ).quantize(PIPS_STEP),
        closed_at=stamp + timedelta(seconds=TIMEFRAME_SECONDS[signal.timeframe]),
    )


# The fields signal_resolve reads, in Candidate's order.
RESOLUTION_INPUTS = ("id", *Candidate._fields[1:])


def _groups(pair: str | None) -> Iterator[tuple[str, str]]:
    active = Signal.objects.active()
    if pair:
        active = active.for_pair(pair)
    yield from active.order_by().values_list("pair", "timeframe").distinct()


def outcomes_backfill(
    *,
    pair: str | None = None,
    dry_run: bool = False,
    batch_size: int = 2000,
    progress: Callable[[BackfillReport], None] | None = None,
) -> BackfillReport:
    """Resolve active signals against later candles, writing in committed batches.

    Each batch is its own transaction and only updates signals still active, so an
    interrupted run loses nothing and a rerun picks up the rest; a second run over
    the same candles changes nothing.
    """
    expiry_bars = settings.SIGNAL_EXPIRY_BARS
    report = BackfillReport()
    for group_pair, timeframe in _groups(pair):
        signals = [
            Candidate(*row)
            for row in Signal.objects.active()
            .filter(pair=group_pair, timeframe=timeframe)
            .order_by("timestamp", "id")
            .values_list(*RESOLUTION_INPUTS)
        ]
        candles = CandleSeries.load(group_pair, timeframe, signals[0].timestamp)
        pending: list[Resolution] = []
        for signal in signals:
            report.examined += 1
            found = signal_resolve(signal, candles, expiry_bars)
            if found is None:
                report.still_active += 1
                continue
            pending.append(found)
            report.by_outcome[found.outcome] = (
                report.by_outcome.get(found.outcome, 0) + 1
            )
            if len(pending) >= batch_size:
                report.resolved += _write(pending, dry_run)
                pending = []
                if progress:
                    progress(report)
        report.resolved += _write(pending, dry_run)
        if progress:
            progress(report)
    return report


def _write(resolutions: list[Resolution], dry_run: bool) -> int:
    if dry_run or not resolutions:
        return len(resolutions)
    return signals_resolve(resolutions=resolutions)
