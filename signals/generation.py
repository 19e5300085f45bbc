"""Signal generation: candles in, new signals out, for many pairs at once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings

from market.pricing import levels_error
from market.providers import provider_for
from market.windows import CandleWindow, MarketDataProvider

from . import indicators
from .calibrations import confidences_apply
from .choices import SkipReason
from .models import Backtest, BacktestStatus, Signal
from .records import strategy_params_of
from .services import BulkError, signals_insert
from .strategies import REGISTRY, selection_parse, strategies_for

TREND_MOMENTUM = "trend_momentum"

NO_MARKET_DATA = SkipReason.NO_MARKET_DATA.value
NOT_ENOUGH_CANDLES = SkipReason.NOT_ENOUGH_CANDLES.value
NO_SETUP = SkipReason.NO_SETUP.value
ALREADY_GENERATED = SkipReason.ALREADY_GENERATED.value
PRICE_STEP = Decimal("0.00000001")


@dataclass
class GenerationResult:
    generated: list[Signal] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    duration_ms: float = 0.0


def strategy_params(name: str = TREND_MOMENTUM) -> Any:
    """A strategy's parameters: its defaults, for trend_momentum overridden by
    SIGNAL_STRATEGY_PARAMS."""
    return strategy_params_of(name)


def signal_price(value: float) -> Decimal:
    """A strategy price as stored: the float's shortest repr, to 8 places."""
    return Decimal(repr(value)).quantize(PRICE_STEP)


def signal_from_window(
    window: CandleWindow,
    timeframe: str,
    params: Any,
    strategy_name: str = TREND_MOMENTUM,
) -> Signal | None:
    """The unsaved signal a strategy gives on the window's last candle, if any; its
    `confidence` is the score until signals.calibration gives the probability."""
    module = REGISTRY[strategy_name].implementation()
    setup = module.evaluate(window.high, window.low, window.close, params)
    if setup is None:
        return None
    entry = window.last_close
    stop, target = signal_price(setup.stop_loss), signal_price(setup.take_profit)
    if levels_error(setup.direction, entry, stop, target):
        return None  # a stop distance lost to rounding: nothing to trade
    # The contract's keys hold the default periods' values; trend_momentum
    # computed them already unless its parameters differ.
    defaults = (
        {}
        if strategy_name == TREND_MOMENTUM and params == module.DEFAULT_PARAMS
        else indicators.snapshot(window.high, window.low, window.close)
    )
    score = Decimal(repr(setup.confidence)).quantize(Decimal("0.01"))
    return Signal(
        pair=window.pair,
        timeframe=timeframe,
        strategy=strategy_name,
        timestamp=window.timestamps[-1],
        direction=setup.direction,
        entry_price=entry,
        stop_loss=stop,
        take_profit=target,
        confidence=score,
        score=score,
        indicators={**defaults, **setup.indicators},
        reasoning=setup.reasoning,
    )


def _existing_keys(candidates: Sequence[Signal], timeframe: str) -> set[tuple]:
    """(pair, strategy, timestamp) of the candidates already stored, in one query."""
    if not candidates:
        return set()
    return set(
        Signal.objects.filter(
            timeframe=timeframe,
            strategy__in={s.strategy for s in candidates},
            pair__in={s.pair for s in candidates},
            timestamp__in={s.timestamp for s in candidates},
        ).values_list("pair", "strategy", "timestamp")
    )


def _store(candidates: list[Signal], timeframe: str) -> tuple[list[Signal], set[str]]:
    """Insert the candidates not stored yet; returns (created, pairs of which every
    candidate was there already)."""
    created: list[Signal] = []
    pending = list(candidates)
    confidences_apply(pending)
    for _ in range(3):
        if not pending:
            break
        try:
            created = signals_insert(signals=pending)
            break
        except BulkError:
            # Generated before, or a concurrent generator stored some first.
            existing = _existing_keys(pending, timeframe)
            pending = [
                s for s in pending if (s.pair, s.strategy, s.timestamp) not in existing
            ]
    stored = {s.pair for s in created}
    return created, {s.pair for s in candidates if s.pair not in stored}


def publish_gated(timeframe: str) -> set[str]:
    """The strategies the publish gate stops on this timeframe: those whose latest
    finished walk-forward backtest has a Brier skill score below PUBLISH_MIN_SKILL
    or an expectancy below PUBLISH_MIN_EXPECTANCY_R (unset: no gate, no query; a
    strategy never backtested is published)."""
    skill, expectancy = settings.PUBLISH_MIN_SKILL, settings.PUBLISH_MIN_EXPECTANCY_R
    if skill is None and expectancy is None:
        return set()
    gated = set()
    for name in REGISTRY:
        latest = (
            Backtest.objects.filter(
                strategy=name, timeframe=timeframe, status=BacktestStatus.DONE
            )
            .order_by("-finished_at", "-id")
            .values_list("report", flat=True)
            .first()
        )
        overall = (latest or {}).get("overall") or {}
        checks = (
            (skill, (overall.get("calibration") or {}).get("brier_skill_score")),
            (expectancy, overall.get("expectancy_r")),
        )
        if latest and any(
            low is not None and (value is None or value < float(low))
            for low, value in checks
        ):
            gated.add(name)
    return gated


def _candidates(
    windows: dict[str, CandleWindow],
    pairs: list[str],
    timeframe: str,
    gated: set[str],
) -> tuple[list[Signal], dict[str, str]]:
    """Each configured strategy's signal on each pair's window (but the gated
    ones'), and the reason of each pair that gave none."""
    selection = selection_parse(settings.SIGNAL_STRATEGIES)
    params = {name: strategy_params(name) for name in REGISTRY}
    reasons: dict[str, str] = {}
    candidates: list[Signal] = []
    for pair in pairs:
        window = windows.get(pair)
        names = [
            n for n in strategies_for(selection, timeframe, pair) if n not in gated
        ]
        if window is None or len(window) == 0:
            reasons[pair] = NO_MARKET_DATA
            continue
        needed = [REGISTRY[n].implementation().min_candles(params[n]) for n in names]
        found = [
            signal
            for name, need in zip(names, needed, strict=True)
            if len(window) >= need
            and (signal := signal_from_window(window, timeframe, params[name], name))
        ]
        candidates += found
        if not found:
            short = not names or len(window) < min(needed)
            reasons[pair] = NOT_ENOUGH_CANDLES if short and names else NO_SETUP
    return candidates, reasons


async def signals_generate_async(
    *,
    pairs: Sequence[str] | None = None,
    timeframe: str | None = None,
    provider: MarketDataProvider | None = None,
) -> GenerationResult:
    """Run each configured strategy on the latest candle of each pair and store
    new signals.

    The provider fetches every pair's window concurrently (one query for the
    database); each pair is skipped with one of the contract's reasons or yields at
    most one signal per strategy, and all new signals are written in one
    all-or-nothing insert.
    Running twice on the same candles creates nothing the second time.
    """
    started = time.perf_counter()
    pairs = list(dict.fromkeys(pairs or settings.SIGNAL_PAIRS))
    timeframe = timeframe or settings.SIGNAL_TIMEFRAME
    provider = provider or provider_for(settings.MARKET_DATA_PROVIDER)
    windows = await provider.windows(pairs, timeframe, settings.SIGNAL_LOOKBACK)
    gated = await sync_to_async(publish_gated)(timeframe)
    candidates, reasons = _candidates(windows, pairs, timeframe, gated)
    created, duplicates = await sync_to_async(_store)(candidates, timeframe)
    reasons.update({pair: ALREADY_GENERATED for pair in duplicates})
    return GenerationResult(
        generated=created,
        skipped=[{"pair": p, "reason": reasons[p]} for p in pairs if p in reasons],
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def signals_generate(
    *,
    pairs: Sequence[str] | None = None,
    timeframe: str | None = None,
    provider: MarketDataProvider | None = None,
) -> GenerationResult:
    """Synchronous entry point of `signals_generate_async` (views, commands)."""
    return async_to_sync(signals_generate_async)(
        pairs=pairs, timeframe=timeframe, provider=provider
    )
