"""Backtest runs: load stored candles, replay, walk forward, audit, report.

`backtest_report` is the whole computation (the `backtest` command calls it);
`backtest_run` runs it for a stored `Backtest` and records progress and the result
(the `signals.backtest` task calls it). Queuing a run is `signals.backtest.services`,
above the tasks module, so the task and the queue do not import each other.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

from market.models import Candle
from signals.calibration import calibration_fit
from signals.generation import strategy_params
from signals.models import Backtest, BacktestStatus
from signals.outcomes import CandleSeries
from signals.strategies import REGISTRY
from signals.strategies import trend_momentum as strategy

from . import folds as wf
from .metrics import Trade, summary
from .replay import (
    CONFIDENCE_STEP,
    candles_of,
    known_by,
    lookahead_mismatches,
    replay,
    warmup_changes,
)
from .rules import Rules, rules_for

logger = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


class BacktestError(Exception):
    """The backtest cannot run with these options; the message says why."""


@dataclass(frozen=True)
class BacktestOptions:
    pair: str
    timeframe: str
    since: datetime | None = None
    until: datetime | None = None
    folds: int = 5
    optimize: str | None = None
    strategy: str = "trend_momentum"


def candles_load(pair: str, timeframe: str, until: datetime | None) -> CandleSeries:
    """The stored candles of a pair and timeframe up to `until`, oldest first."""
    rows = Candle.objects.series(pair, timeframe)
    if until is not None:
        rows = rows.filter(timestamp__lte=until)
    rows = list(
        rows.order_by("timestamp").values_list(
            "timestamp", "open", "high", "low", "close"
        )
    )
    prices = np.array([row[1:] for row in rows], dtype=float).reshape(-1, 4)
    stamps = np.array([row[0].timestamp() for row in rows], dtype=float)
    return CandleSeries(stamps=stamps, prices=prices, rows=rows)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _param_sets(
    options: BacktestOptions,
) -> list[tuple[dict[str, Any], strategy.StrategyParams]]:
    base = strategy_params(options.strategy)
    if not options.optimize:
        return [({}, base)]
    try:
        return wf.grid_params(wf.grid_parse(options.optimize), base)
    except ValueError as error:
        raise BacktestError(f"optimize: {error}") from None


def _calibrated(
    trades: list[Trade], history: list[Trade], lo: int, prior: float
) -> list[Trade]:
    """The fold's trades with the confidence of a calibration fitted on the trades
    of `history` resolved before the fold's first candle `lo`, as the live
    generator's calibration would have known them."""
    known = sorted(
        (
            t
            for t in history
            if t.exit_index is not None
            and t.exit_index < lo
            and t.outcome in ("win", "loss")
        ),
        key=lambda t: (t.closed_at, t.timestamp),
    )
    fit = calibration_fit(
        [float(t.score if t.score is not None else t.confidence) for t in known],
        [t.outcome == "win" for t in known],
        prior=prior,
        k=settings.CALIBRATION_MIN_OUTCOMES,
    )
    return [
        dataclasses.replace(
            t,
            confidence=Decimal(
                repr(100 * fit.probability(float(t.score or t.confidence)))
            ).quantize(CONFIDENCE_STEP),
        )
        for t in trades
    ]


def _walk_forward(
    series: CandleSeries,
    replayed: list[list[Trade]],
    param_sets: list[tuple[dict[str, Any], strategy.StrategyParams]],
    bounds: list[tuple[int, int]],
    optimise: bool,
    prior: float,
) -> tuple[list[dict[str, Any]], list[tuple[Trade, strategy.StrategyParams]]]:
    """Per fold: the report object, and the fold's trades with their parameters
    and calibrated confidence."""
    fold_reports, chosen = [], []
    for number, (lo, hi) in enumerate(bounds):
        in_sample, pick = None, 0
        if optimise:
            # Only what was known when the fold opened: its candles are unseen.
            known = [known_by(trades, lo) for trades in replayed]
            pick = wf.best_index([summary(k)["expectancy_r"] for k in known])
            in_sample = summary(known[pick])
        choice, params = param_sets[pick]
        trades = [
            dataclasses.replace(t, fold=number)
            for t in replayed[pick]
            if lo <= t.index < hi
        ]
        trades = _calibrated(trades, replayed[pick], lo, prior)
        chosen.extend((t, params) for t in trades)
        out = summary(trades)
        gap = None
        if in_sample and None not in (in_sample["expectancy_r"], out["expectancy_r"]):
            gap = in_sample["expectancy_r"] - out["expectancy_r"]
        fold_reports.append(
            {
                "from": _iso(series.rows[lo][0]),
                "to": _iso(series.rows[hi - 1][0]),
                "params": choice,
                **out,
                "in_sample": in_sample,
                "expectancy_r_gap": gap,
            }
        )
    return fold_reports, chosen


def _period_start(series: CandleSeries, options: BacktestOptions) -> int:
    """Index of the first candle in the period; BacktestError when it is too short."""
    start = 0
    if options.since is not None:
        start = int(np.searchsorted(series.stamps, options.since.timestamp()))
    period = len(series.stamps) - start
    if period < (options.folds + bool(options.optimize)) * 2:
        raise BacktestError(
            f"{period} candles of {options.pair} {options.timeframe} in the period: "
            f"too few for {options.folds} folds"
        )
    return start


def backtest_report(
    *,
    options: BacktestOptions,
    progress: Progress | None = None,
    rules: Rules | None = None,
) -> dict[str, Any]:
    """The contract's backtest report; writes nothing.

    Raises BacktestError when the options or the stored candles do not allow a run.
    """
    series = candles_load(options.pair, options.timeframe, options.until)
    return series_report(
        series,
        options=options,
        start=_period_start(series, options),
        progress=progress,
        rules=rules,
    )


def series_report(
    series: CandleSeries,
    *,
    options: BacktestOptions,
    start: int = 0,
    progress: Progress | None = None,
    rules: Rules | None = None,
    audits: bool = True,
) -> dict[str, Any]:
    """The report over candles already loaded, signals from candle `start` on."""
    rules = rules or rules_for(options.strategy)
    step = progress or (lambda fraction, message: None)
    param_sets = _param_sets(options)
    lookback, expiry = settings.SIGNAL_LOOKBACK, settings.SIGNAL_EXPIRY_BARS
    total_steps = len(param_sets) + 2
    cache: dict = {}  # indicator arrays shared by parameter sets
    replayed = []
    for k, (_, params) in enumerate(param_sets):
        step(k / total_steps, f"replay {k + 1}/{len(param_sets)}")
        replayed.append(
            replay(
                series,
                pair=options.pair,
                timeframe=options.timeframe,
                params=params,
                lookback=lookback,
                expiry_bars=expiry,
                start=start,
                rules=rules,
                cache=cache,
            )
        )
    optimise = bool(options.optimize)
    bounds = wf.fold_bounds(start, len(series.stamps), options.folds, optimise)
    prior = REGISTRY[options.strategy].prior_win_rate(param_sets[0][1])
    fold_reports, chosen = _walk_forward(
        series, replayed, param_sets, bounds, optimise, prior
    )
    mismatches, warmup = 0, {}
    if audits:  # only the benchmark leaves them out, to time the rest alone
        step(len(param_sets) / total_steps, "lookahead audit")
        mismatches = lookahead_mismatches(
            series, chosen, lookback=lookback, rules=rules
        )
        step((len(param_sets) + 1) / total_steps, "warm-up audit")
        # The contract's indicator keys are trend_momentum's, which every signal
        # carries; its own parameters when it is the strategy replayed.
        trend = options.strategy == strategy.STRATEGY_NAME
        warmup = warmup_changes(
            candles_of(series),
            param_sets[0][1] if trend else strategy.DEFAULT_PARAMS,
            lookback=lookback,
            start=start,
        )
    trades = [t for t, _ in chosen]
    step(1.0, "done")
    return {
        "strategy": options.strategy,
        "overall": summary(trades),
        "folds": fold_reports,
        "trades": [t.as_json() for t in trades],
        "lookahead": {"checked": len(trades), "mismatches": mismatches},
        "warmup": warmup,
    }


def lookahead_failure(report: dict[str, Any]) -> str | None:
    """Why the report fails the run (a lookahead mismatch), or None."""
    mismatches = report["lookahead"]["mismatches"]
    if mismatches:
        return (
            f"lookahead audit: {mismatches} of {report['lookahead']['checked']} "
            "signals differ when regenerated from the history cut at their candle"
        )
    return None


def backtest_run(*, backtest_id: int) -> None:
    """Run a stored backtest, recording progress, then its report or its error."""
    rows = Backtest.objects.filter(pk=backtest_id)
    rows.update(status=BacktestStatus.RUNNING, started_at=timezone.now())
    backtest = Backtest.objects.get(pk=backtest_id)
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        if fraction - last[0] >= 0.05 or fraction >= 1.0:
            last[0] = fraction
            rows.update(progress=round(min(fraction, 1.0), 4))

    try:
        report = backtest_report(
            options=BacktestOptions(**backtest.options_for_run()), progress=progress
        )
    except Exception as error:  # the run's answer, whatever went wrong
        if not isinstance(error, BacktestError):
            logger.exception("backtest %s failed", backtest_id)
        rows.update(
            status=BacktestStatus.FAILED, error=str(error), finished_at=timezone.now()
        )
        return
    failure = lookahead_failure(report)
    rows.update(
        status=BacktestStatus.FAILED if failure else BacktestStatus.DONE,
        progress=1.0,
        report=report,
        error=failure or "",
        finished_at=timezone.now(),
    )
