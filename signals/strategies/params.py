"""The tunables of the mean-reversion and breakout strategies (pure, no numpy), so
the registry can list them without loading the array code. Trend-momentum's are
`signals.strategy_params.StrategyParams`."""

from __future__ import annotations

from dataclasses import dataclass


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
