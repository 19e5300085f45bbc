"""The registry of built-in strategies (pure: no Django, no numpy until a strategy
runs) and the rule that picks which run for a timeframe and pair.

Every strategy module has one interface: `STRATEGY_NAME`, `DEFAULT_PARAMS` (a
frozen dataclass with at least `risk_reward`), `min_candles(params)` and
`evaluate(high, low, close, params) -> Setup | None` (signals.strategies.base),
a pure function of the window's last bar. The registry names each with its
description and default parameters and imports its module only when it runs, so
listing strategies loads no array code.

`SIGNAL_STRATEGIES` (comma separated; empty: every built-in everywhere) selects:
`name` runs on every timeframe and pair, `name@1h` on one timeframe, `name:EUR/USD`
on one pair, `name@4h:BTC/USDT` on both; list a name several times to add more.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from signals.strategies.params import StrategyParams

from .params import BreakoutParams, MeanReversionParams

NAME_PATTERN = re.compile(r"[a-z0-9_]{1,40}\Z")


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    description: str
    default_params: Any
    module: str

    def implementation(self) -> ModuleType:
        """The strategy's module (evaluate, min_candles), imported on first use."""
        return importlib.import_module(self.module)

    def prior_win_rate(self, params: Any = None) -> float:
        """The break-even win rate 1 / (1 + reward:risk): the probability that
        claims no edge, where calibration starts before any outcome is known."""
        return 1.0 / (1.0 + (params or self.default_params).risk_reward)


BUILT_IN: tuple[StrategyInfo, ...] = (
    StrategyInfo(
        "breakout",
        "Breakout: a close beyond the Donchian channel of the 20 bars before it, "
        "with ADX behind it; stop 2 x ATR, target 2R.",
        BreakoutParams(),
        "signals.strategies.breakout",
    ),
    StrategyInfo(
        "mean_reversion",
        "Mean reversion: a close outside the Bollinger bands with RSI past 30/70 "
        "and no strong trend (ADX <= 30); stop 1.5 x ATR, target 1.5R.",
        MeanReversionParams(),
        "signals.strategies.mean_reversion",
    ),
    StrategyInfo(
        "trend_momentum",
        "Trend momentum: EMA20/EMA50 trend confirmed by MACD and RSI, ADX >= 20; "
        "stop 1.5 x ATR, target 2R.",
        StrategyParams(),
        "signals.strategies.trend_momentum",
    ),
)
REGISTRY: dict[str, StrategyInfo] = {info.name: info for info in BUILT_IN}
assert all(NAME_PATTERN.match(name) for name in REGISTRY)


@dataclass(frozen=True)
class Selection:
    """One entry of SIGNAL_STRATEGIES: a strategy, and where it runs (None: all)."""

    name: str
    timeframe: str | None = None
    pair: str | None = None


def selection_parse(entries: Iterable[str]) -> list[Selection]:
    """The entries of SIGNAL_STRATEGIES; every built-in when there are none.
    ValueError names an unknown strategy or a malformed entry."""
    found = []
    for entry in entries:
        head, _, pair = entry.strip().partition(":")
        name, _, timeframe = head.partition("@")
        if name not in REGISTRY:
            raise ValueError(f"SIGNAL_STRATEGIES: unknown strategy {name!r}")
        if (":" in entry and not pair) or ("@" in head and not timeframe):
            raise ValueError(f"SIGNAL_STRATEGIES: malformed entry {entry!r}")
        found.append(Selection(name, timeframe or None, pair or None))
    return found or [Selection(name) for name in REGISTRY]


def strategies_for(
    selection: Sequence[Selection], timeframe: str, pair: str | None = None
) -> list[str]:
    """The names that run on this timeframe (and pair, when given), sorted."""
    return sorted(
        {
            s.name
            for s in selection
            if s.timeframe in (None, timeframe)
            and (pair is None or s.pair in (None, pair))
        }
    )
