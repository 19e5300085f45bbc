"""The tunables of every built-in strategy (pure, no numpy), validated where options
are read, so the registry can list them without loading the array code."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _check(problems: list[tuple[bool, str]]) -> None:
    for failed, message in problems:
        if failed:
            raise ValueError(message)


@dataclass(frozen=True)
class MeanReversionParams:
    """RSI and Bollinger extremes in a market without a strong trend."""

    rsi_period: int = 14
    bb_period: int = 20
    bb_std: float = 2.0
    atr_period: int = 14
    adx_period: int = 14
    rsi_oversold: float = 30.0
    rsi_overbought: float = 70.0
    max_adx: float = 30.0  # above it the move is a trend, not an excess
    atr_stop_multiple: float = 1.5
    risk_reward: float = 1.5
    # Where each score saturates: RSI 10 points past its bound, the close one
    # ATR outside the band.
    rsi_full: float = 10.0
    band_full_atr: float = 1.0
    weight_rsi: float = 40.0
    weight_band: float = 40.0
    weight_adx: float = 20.0

    def __post_init__(self) -> None:
        _check(
            [
                (min(self.rsi_period, self.bb_period, self.atr_period) < 2, "periods"),
                (self.adx_period < 2, "periods must be >= 2"),
                (not 0 < self.rsi_oversold < 50 < self.rsi_overbought < 100, "rsi"),
                (min(self.atr_stop_multiple, self.risk_reward) <= 0, "levels > 0"),
                (min(self.bb_std, self.rsi_full, self.band_full_atr) <= 0, "scales"),
                (self.max_adx <= 0, "max_adx must be > 0"),
                (min(self.weights()) < 0 or sum(self.weights()) <= 0, "bad weights"),
            ]
        )

    def weights(self) -> tuple[float, ...]:
        return (self.weight_rsi, self.weight_band, self.weight_adx)


@dataclass(frozen=True)
class BreakoutParams:
    """A close beyond the Donchian channel of the bars before it, ATR stop."""

    channel_period: int = 20
    atr_period: int = 14
    adx_period: int = 14
    min_adx: float = 15.0
    atr_stop_multiple: float = 2.0
    risk_reward: float = 2.0
    breakout_full_atr: float = 1.0
    adx_full: float = 40.0
    weight_breakout: float = 60.0
    weight_adx: float = 40.0

    def __post_init__(self) -> None:
        _check(
            [
                (min(self.channel_period, self.atr_period) < 2, "periods >= 2"),
                (self.adx_period < 2, "periods must be >= 2"),
                (min(self.atr_stop_multiple, self.risk_reward) <= 0, "levels > 0"),
                (self.breakout_full_atr <= 0, "scales must be > 0"),
                (self.adx_full <= self.min_adx, "adx_full must be > min_adx"),
                (min(self.weights()) < 0 or sum(self.weights()) <= 0, "bad weights"),
            ]
        )

    def weights(self) -> tuple[float, ...]:
        return (self.weight_breakout, self.weight_adx)


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
        _check(problems)

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
