"""The default trend_momentum strategy: rules, levels and determinism."""

from dataclasses import replace

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import market_data_path
from signals import indicators as ind
from signals.strategies.trend_momentum import (
    DEFAULT_PARAMS,
    STRATEGY_NAME,
    Setup,
    StrategyParams,
    evaluate,
    min_candles,
)

Candles = tuple[np.ndarray, np.ndarray, np.ndarray]


def wave_trend(sign: float, n: int = 300) -> Candles:
    """A steady trend with regular pullbacks, caught mid-pullback on the last bar.

    A 2-pip-per-bar drift under a 20-pip, 12-bar wave keeps ADX high and RSI below
    the exhaustion bound; sign=-1 mirrors it into a downtrend.
    """
    t = np.arange(n, dtype=float) - (n - 1)
    close = 1.1 + sign * (2e-4 * t + 2e-3 * np.sin(2 * np.pi * t / 12 + np.pi))
    return close + 5e-4, close - 5e-4, close


def assert_consistent(setup: Setup, candles: Candles, params: StrategyParams) -> None:
    """Direction, levels, confidence and indicators obey the documented rules."""
    high, low, close = candles
    assert setup.direction in ("buy", "sell")
    assert 0 <= setup.confidence <= 100
    assert setup.confidence >= params.min_confidence
    assert setup.confidence == round(setup.confidence, 2)
    assert setup.entry == close[-1]
    if setup.direction == "buy":
        assert setup.stop_loss < setup.entry < setup.take_profit
    else:
        assert setup.take_profit < setup.entry < setup.stop_loss
    risk = params.atr_stop_multiple * talib.ATR(high, low, close, params.atr_period)[-1]
    assert abs(setup.entry - setup.stop_loss) == pytest.approx(risk, rel=1e-9)
    reward = abs(setup.take_profit - setup.entry)
    assert reward == pytest.approx(params.risk_reward * risk, rel=1e-9)


@pytest.fixture(scope="module")
def eurusd() -> Candles:
    """High, low and close of the EUR/USD hourly test history (conftest)."""
    data = market_data_path()
    high, low, close = np.loadtxt(data, delimiter=",", skiprows=1, usecols=(2, 3, 4)).T
    return high, low, close


def test_strategy_name_is_trend_momentum() -> None:
    assert STRATEGY_NAME == "trend_momentum"


def test_min_candles_for_defaults_is_the_ema_slow_period() -> None:
    assert min_candles(DEFAULT_PARAMS) == 50


def test_min_candles_is_the_fewest_with_every_indicator_defined() -> None:
    candles = wave_trend(1)
    n = min_candles(DEFAULT_PARAMS)
    assert None not in ind.snapshot(*(a[-n:] for a in candles)).values()
    assert None in ind.snapshot(*(a[-n + 1 :] for a in candles)).values()


def test_min_candles_follows_the_longest_lookback() -> None:
    assert min_candles(StrategyParams(adx_period=30)) == 60
    assert min_candles(StrategyParams(ema_fast=5, ema_slow=10)) == 34


def test_strong_uptrend_gives_buy() -> None:
    candles = wave_trend(1)
    setup = evaluate(*candles)
    assert setup is not None and setup.direction == "buy"
    assert_consistent(setup, candles, DEFAULT_PARAMS)


def test_strong_downtrend_gives_sell() -> None:
    candles = wave_trend(-1)
    setup = evaluate(*candles)
    assert setup is not None and setup.direction == "sell"
    assert_consistent(setup, candles, DEFAULT_PARAMS)


def test_mirrored_trends_get_the_same_confidence() -> None:
    buy, sell = evaluate(*wave_trend(1)), evaluate(*wave_trend(-1))
    assert buy is not None and sell is not None
    assert buy.confidence == pytest.approx(sell.confidence, abs=0.011)


def test_same_input_gives_the_same_setup() -> None:
    candles = wave_trend(1)
    assert evaluate(*candles) == evaluate(*candles)
    assert evaluate(*(a.tolist() for a in candles)) == evaluate(*candles)


def talib_last_bar(candles: Candles, p: StrategyParams) -> dict[str, float]:
    """The indicators a setup reports, computed independently by TA-Lib."""
    high, low, close = candles
    line, signal, hist = talib.MACD(close, p.macd_fast, p.macd_slow, p.macd_signal)
    upper, middle, lower = talib.BBANDS(
        close, timeperiod=p.bb_period, nbdevup=p.bb_std, nbdevdn=p.bb_std, matype=0
    )
    series = {
        f"ema_{p.ema_fast}": talib.EMA(close, p.ema_fast),
        f"ema_{p.ema_slow}": talib.EMA(close, p.ema_slow),
        f"rsi_{p.rsi_period}": talib.RSI(close, p.rsi_period),
        "macd": line,
        "macd_signal": signal,
        "macd_hist": hist,
        f"atr_{p.atr_period}": talib.ATR(high, low, close, p.atr_period),
        f"adx_{p.adx_period}": talib.ADX(high, low, close, p.adx_period),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
    }
    return {name: float(values[-1]) for name, values in series.items()}


@pytest.mark.parametrize(
    "params",
    [
        DEFAULT_PARAMS,
        StrategyParams(
            ema_fast=10, ema_slow=30, rsi_period=9, atr_period=10, adx_period=10,
            bb_period=15, bb_std=1.5, macd_fast=8, macd_slow=21, macd_signal=5,
        ),
    ],
)  # fmt: skip
def test_indicators_are_talibs_values_on_the_last_bar(params: StrategyParams) -> None:
    candles = wave_trend(1)
    setup = evaluate(*candles, params)
    assert setup is not None
    expected = talib_last_bar(candles, params)
    assert setup.indicators.keys() == expected.keys()
    for name, value in expected.items():
        assert setup.indicators[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_reasoning_names_the_direction_and_confidence() -> None:
    setup = evaluate(*wave_trend(-1))
    assert setup is not None
    assert setup.reasoning.startswith("SELL: downtrend")
    assert f"Confidence {setup.confidence:.2f}" in setup.reasoning


def test_stop_distance_follows_the_atr_multiple_param() -> None:
    candles = wave_trend(1)
    params = StrategyParams(atr_stop_multiple=2.5, risk_reward=3.0)
    setup = evaluate(*candles, params)
    assert setup is not None
    assert_consistent(setup, candles, params)


def test_too_few_candles_gives_none() -> None:
    n = min_candles(DEFAULT_PARAMS)
    assert evaluate(*(a[-n + 1 :] for a in wave_trend(1))) is None
    assert evaluate([], [], []) is None


def test_flat_series_gives_none() -> None:
    close = np.full(300, 1.1)
    assert evaluate(close + 5e-4, close - 5e-4, close) is None
    assert evaluate(close, close, close) is None


def test_exhausted_rally_gives_none() -> None:
    # A pullback-free ramp drives RSI to 100, beyond the buy bound of 70.
    close = 1.1 + 2e-4 * np.arange(300)
    candles = (close + 5e-4, close - 5e-4, close)
    assert ind.snapshot(*candles)["rsi_14"] > DEFAULT_PARAMS.rsi_buy_max
    assert evaluate(*candles) is None
    assert evaluate(*candles, replace(DEFAULT_PARAMS, rsi_buy_max=100.0)) is not None


def test_trend_and_momentum_disagreeing_gives_none() -> None:
    # An uptrend whose last bars drop hard: EMAs still point up, price and MACD don't.
    close = wave_trend(1)[2]
    close = np.concatenate([close, close[-1] - 2e-3 * np.arange(1, 6)])
    snap = ind.snapshot(close + 5e-4, close - 5e-4, close)
    assert snap["ema_20"] > snap["ema_50"] and close[-1] < snap["ema_20"]
    assert evaluate(close + 5e-4, close - 5e-4, close) is None


def test_weak_adx_gives_none() -> None:
    candles = wave_trend(1)
    adx = ind.snapshot(*candles)["adx_14"]
    stricter = replace(DEFAULT_PARAMS, min_adx=adx + 0.01, adx_full=adx + 10)
    assert evaluate(*candles, stricter) is None


def test_confidence_below_the_minimum_gives_none() -> None:
    candles = wave_trend(1)
    setup = evaluate(*candles)
    assert setup is not None and setup.confidence < 100
    raised = replace(DEFAULT_PARAMS, min_confidence=setup.confidence + 0.01)
    assert evaluate(*candles, raised) is None


def test_invalid_params_are_rejected() -> None:
    for bad in (
        {"ema_fast": 50, "ema_slow": 20},
        {"atr_stop_multiple": 0.0},
        {"risk_reward": -1.0},
        {"rsi_buy_max": 40.0},
        {"min_confidence": 101.0},
        {"weight_trend": -1.0},
    ):
        with pytest.raises(ValueError):
            StrategyParams(**bad)


def test_every_setup_on_eurusd_history_obeys_the_rules(eurusd: Candles) -> None:
    directions = set()
    for end in range(300, len(eurusd[2]), 5):
        window = tuple(a[end - 300 : end] for a in eurusd)
        setup = evaluate(*window)
        if setup is not None:
            assert_consistent(setup, window, DEFAULT_PARAMS)
            directions.add(setup.direction)
    assert directions == {"buy", "sell"}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(0, 300),
    drift=st.floats(-1e-3, 1e-3),
)
def test_any_setup_on_random_walks_obeys_the_rules(
    seed: int, length: int, drift: float
) -> None:
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(drift, 0.002, length)))
    candles = (close * 1.001, close * 0.999, close)
    setup = evaluate(*candles)
    if setup is not None:
        assert_consistent(setup, candles, DEFAULT_PARAMS)
