"""The strategy's tunables (pure): validated where options are read, without
loading the strategy's array code."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StrategyParams:
    """Every tunable of the strategy; defaults suit hourly FX."""

    ema_fast: int = 20
    ema_slow: int = 50
    rsi_period: int = 14
    adx_period: int = 14
    atr_period: int = 14
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    bb_period: int = 20
    bb_std: float = 2.0
    atr_stop_multiple: float = 1.5
    risk_reward: float = 2.0
    min_adx: float = 20.0
    rsi_buy_max: float = 70.0
    rsi_sell_min: float = 30.0
    min_confidence: float = 50.0
    # Where each confidence score saturates at 1 (about the 85-90th percentile on
    # EUR/USD hourly data, so only unusually strong readings score full marks).
    trend_full_atr: float = 2.0
    adx_full: float = 45.0
    macd_full_atr: float = 0.35
    # Relative weights of the confidence scores; they are normalised to sum to 100.
    weight_trend: float = 30.0
    weight_adx: float = 25.0
    weight_macd: float = 20.0
    weight_rsi: float = 15.0
    weight_bollinger: float = 10.0

    def __post_init__(self) -> None:
        """Reject parameter sets the rules cannot work with."""
        periods = (
            self.ema_fast,
            self.rsi_period,
            self.adx_period,
            self.atr_period,
            self.macd_fast,
            self.macd_signal,
            self.bb_period,
        )
        problems = [
            (min(periods) < 2, "periods must be >= 2"),
            (self.ema_fast >= self.ema_slow, "ema_fast must be < ema_slow"),
            (self.macd_fast >= self.macd_slow, "macd_fast must be < macd_slow"),
            (self.atr_stop_multiple <= 0, "atr_stop_multiple must be > 0"),
            (self.risk_reward <= 0, "risk_reward must be > 0"),
            (self.bb_std <= 0, "bb_std must be > 0"),
            (not 0 <= self.rsi_sell_min < 50, "rsi_sell_min must be in [0, 50)"),
            (not 50 < self.rsi_buy_max <= 100, "rsi_buy_max must be in (50, 100]"),
            (not 0 <= self.min_confidence <= 100, "min_confidence must be in [0, 100]"),
            (self.adx_full <= self.min_adx, "adx_full must be > min_adx"),
            (min(self.trend_full_atr, self.macd_full_atr) <= 0, "scales must be > 0"),
            (min(self._weights()) < 0 or sum(self._weights()) <= 0, "bad weights"),
        ]
        for failed, message in problems:
            if failed:
                raise ValueError(message)

    def _weights(self) -> tuple[float, ...]:
        """Confidence weights in score order: trend, ADX, MACD, RSI, Bollinger."""
        return (
            self.weight_trend,
            self.weight_adx,
            self.weight_macd,
            self.weight_rsi,
            self.weight_bollinger,
        )


def params_overridden(overrides: Mapping[str, str]) -> StrategyParams:
    """The defaults with `name: text` overrides (SIGNAL_STRATEGY_PARAMS), typed as
    the fields; ValueError on an unknown name."""
    types = {f.name: f.type for f in dataclasses.fields(StrategyParams)}
    values: dict[str, Any] = {}
    for key, raw in overrides.items():
        if key not in types:
            raise ValueError(f"SIGNAL_STRATEGY_PARAMS: unknown parameter {key!r}")
        values[key] = int(raw) if types[key] in (int, "int") else float(raw)
    return StrategyParams(**values)
