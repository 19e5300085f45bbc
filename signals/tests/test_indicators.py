"""signals.indicators must reproduce TA-Lib bar for bar."""

from collections.abc import Callable

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import market_data_path
from signals import indicators as ind

Pairs = list[tuple[np.ndarray, np.ndarray]]

# Each entry gives (ours, talib's) output pairs for a few parameter choices.
INDICATORS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], Pairs]] = {
    "sma": lambda h, lo, c: [(ind.sma(c, p), talib.SMA(c, p)) for p in (2, 20, 50)],
    "ema": lambda h, lo, c: [(ind.ema(c, p), talib.EMA(c, p)) for p in (2, 20, 50)],
    "rsi": lambda h, lo, c: [(ind.rsi(c, p), talib.RSI(c, p)) for p in (2, 14, 30)],
    "macd": lambda h, lo, c: [
        pair
        for args in ((12, 26, 9), (5, 35, 5), (3, 10, 1), (26, 12, 9))
        for pair in zip(ind.macd(c, *args), talib.MACD(c, *args), strict=True)
    ],
    "atr": lambda h, lo, c: [
        (ind.atr(h, lo, c, p), talib.ATR(h, lo, c, p)) for p in (2, 14, 30)
    ],
    "adx": lambda h, lo, c: [
        (ind.adx(h, lo, c, p), talib.ADX(h, lo, c, p)) for p in (2, 14, 30)
    ],
    "donchian": lambda h, lo, c: [
        pair
        for p in (2, 20, 55)
        for pair in zip(
            ind.donchian(h, lo, p), (talib.MAX(h, p), talib.MIN(lo, p)), strict=True
        )
    ],
    "bollinger": lambda h, lo, c: [
        pair
        for p, k in ((20, 2.0), (10, 1.5))
        for pair in zip(
            ind.bollinger(c, p, k),
            talib.BBANDS(c, timeperiod=p, nbdevup=k, nbdevdn=k, matype=0),
            strict=True,
        )
    ],
}


def assert_matches(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Same length, same NaN positions, then equal within rounding error."""
    assert ours.dtype == np.float64
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    defined = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[defined], theirs[defined], rtol=1e-9, atol=1e-12)


def random_walk(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded price-like OHLC walk (high >= close >= low)."""
    rng = np.random.default_rng(seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    high = close * (1 + rng.uniform(0, 0.003, n))
    low = close * (1 - rng.uniform(0, 0.003, n))
    return high, low, close


@pytest.fixture(scope="module")
def eurusd() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """High, low and close of the EUR/USD hourly test history (conftest)."""
    data = market_data_path()
    high, low, close = np.loadtxt(data, delimiter=",", skiprows=1, usecols=(2, 3, 4)).T
    return high, low, close


@pytest.mark.parametrize("name", INDICATORS)
def test_matches_talib_on_eurusd_hourly(name: str, eurusd: tuple) -> None:
    for ours, theirs in INDICATORS[name](*eurusd):
        assert_matches(ours, theirs)


@pytest.mark.parametrize(
    "length", [0, 1, 2, 5, 13, 14, 15, 19, 20, 27, 28, 33, 34, 50, 300]
)
@pytest.mark.parametrize("name", INDICATORS)
def test_matches_talib_on_random_walks_of_any_length(name: str, length: int) -> None:
    for ours, theirs in INDICATORS[name](*random_walk(length, length)):
        assert_matches(ours, theirs)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(0, 400))
def test_matches_talib_on_arbitrary_seeded_walks(seed: int, length: int) -> None:
    for pairs in INDICATORS.values():
        for ours, theirs in pairs(*random_walk(seed, length)):
            assert_matches(ours, theirs)


@pytest.mark.parametrize("name", INDICATORS)
def test_matches_talib_on_flat_series(name: str) -> None:
    close = np.full(120, 1.1)
    for high, low in ((close + 0.001, close - 0.001), (close, close)):
        for ours, theirs in INDICATORS[name](high, low, close):
            assert_matches(ours, theirs)


def test_rsi_is_zero_on_a_flat_series_like_talib() -> None:
    close = np.full(60, 1.25)
    np.testing.assert_array_equal(ind.rsi(close)[14:], 0.0)
    np.testing.assert_array_equal(talib.RSI(close)[14:], 0.0)


def test_leading_nan_counts_match_talib_lookbacks() -> None:
    high, low, close = random_walk(7, 200)
    expected = {
        "sma_20": (ind.sma(close, 20), 19),
        "ema_50": (ind.ema(close, 50), 49),
        "rsi_14": (ind.rsi(close, 14), 14),
        "atr_14": (ind.atr(high, low, close, 14), 14),
        "adx_14": (ind.adx(high, low, close, 14), 27),
    }
    expected |= {f"macd_{i}": (out, 33) for i, out in enumerate(ind.macd(close))}
    expected |= {f"bb_{i}": (out, 19) for i, out in enumerate(ind.bollinger(close))}
    for name, (out, lookback) in expected.items():
        assert np.isnan(out[:lookback]).all(), name
        assert not np.isnan(out[lookback:]).any(), name


def test_outputs_are_all_nan_when_shorter_than_the_lookback() -> None:
    high, low, close = random_walk(3, 20)
    assert np.isnan(ind.adx(high, low, close, 14)).all()
    assert np.isnan(np.concatenate(ind.macd(close))).all()
    assert np.isnan(ind.ema(close, 50)).all()


def test_snapshot_has_the_documented_keys_and_talibs_last_values(eurusd: tuple) -> None:
    high, low, close = (a[-500:] for a in eurusd)
    snap = ind.snapshot(high, low, close)
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2, 2, 0)
    expected = {
        "ema_20": talib.EMA(close, 20),
        "ema_50": talib.EMA(close, 50),
        "rsi_14": talib.RSI(close, 14),
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "atr_14": talib.ATR(high, low, close, 14),
        "adx_14": talib.ADX(high, low, close, 14),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
    }
    assert list(snap) == list(expected)
    for key, series in expected.items():
        assert type(snap[key]) is float, key
        assert snap[key] == pytest.approx(series[-1], rel=1e-9, abs=1e-12), key


def test_snapshot_gives_none_for_values_not_yet_defined() -> None:
    snap = ind.snapshot(*random_walk(1, 25))
    assert snap["ema_50"] is None and snap["macd"] is None and snap["adx_14"] is None
    assert snap["ema_20"] is not None and snap["rsi_14"] is not None
    assert all(v is None for v in ind.snapshot([], [], []).values())


def test_rejects_mismatched_lengths_and_bad_periods() -> None:
    with pytest.raises(ValueError):
        ind.atr([1.0, 2.0], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        ind.sma([1.0, 2.0, 3.0], 0)
    with pytest.raises(ValueError):
        ind.ema(np.ones((3, 3)), 2)


def _donchian_reference(high: list, low: list, period: int) -> tuple[list, list]:
    """The definition: the highest high and lowest low of the `period` bars ending
    at each bar, None before the first full window."""
    upper, lower = [], []
    for i in range(len(high)):
        if i + 1 < period:
            upper.append(None)
            lower.append(None)
        else:
            upper.append(max(high[i + 1 - period : i + 1]))
            lower.append(min(low[i + 1 - period : i + 1]))
    return upper, lower


@settings(max_examples=50, deadline=None)
@given(
    bars=st.lists(
        st.tuples(st.floats(1, 2), st.floats(0, 0.1)), min_size=1, max_size=80
    ),
    period=st.integers(2, 30),
)
def test_donchian_equals_the_plain_python_definition(bars, period):
    high = [base + spread for base, spread in bars]
    low = [base for base, _ in bars]
    upper, lower = ind.donchian(np.array(high), np.array(low), period)
    ref_upper, ref_lower = _donchian_reference(high, low, period)
    for ours, ref in ((upper, ref_upper), (lower, ref_lower)):
        assert [None if np.isnan(v) else float(v) for v in ours] == ref
