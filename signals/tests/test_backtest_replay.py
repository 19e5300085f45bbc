"""Replay equals the live generator and outcome backfill, candle for candle."""

import random
from datetime import datetime

import numpy as np
import pytest
import talib
from asgiref.sync import sync_to_async

from market.models import Candle
from market.services import candles_import
from market.windows import CandleWindow, window_from_rows
from signals.backtest.replay import replay
from signals.backtest.rules import Candles, rules_for, trend_momentum
from signals.backtest.runs import candles_load
from signals.backtest.windowed import adx, atr, ema, lanes_for, macd, rsi
from signals.generation import signals_generate, strategy_params
from signals.models import Signal
from signals.outcomes import outcomes_backfill
from signals.strategies import REGISTRY
from signals.strategies import trend_momentum as strategy

pytestmark = pytest.mark.django_db
PAIR = "EUR/USD"


class AsOfProvider:
    """The stored candles as the generator would have read them at one moment."""

    def __init__(self, until: datetime) -> None:
        self.until = until

    async def windows(
        self, pairs: list[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        return await sync_to_async(self._windows)(pairs, timeframe, limit)

    def _windows(
        self, pairs: list[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        found = {}
        for pair in pairs:
            rows = list(
                Candle.objects.series(pair, timeframe)
                .filter(timestamp__lte=self.until)
                .order_by("-timestamp")[:limit]
                .values_list("timestamp", "high", "low", "close")
            )[::-1]
            if rows:
                found[pair] = window_from_rows(pair, rows)
        return found


@pytest.fixture
def eurusd(market_data):  # type: ignore[no-untyped-def]
    candles_import(path=market_data, pair=PAIR, timeframe="1h")
    return candles_load(PAIR, "1h", None)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_replay_gives_every_signal_and_outcome_the_live_generator_gives(
    eurusd, settings, name
):
    settings.SIGNAL_STRATEGIES = [name]
    lookback = settings.SIGNAL_LOOKBACK
    trades = replay(
        eurusd,
        pair=PAIR,
        timeframe="1h",
        params=strategy_params(name),
        lookback=lookback,
        expiry_bars=settings.SIGNAL_EXPIRY_BARS,
        rules=rules_for(name),
    )
    by_index = {t.index: t for t in trades}
    n = len(eurusd.rows)
    assert n == 5000 and len(by_index) > 100
    # Every replayed signal, as many candles without one, and the candles where the
    # window starts moving (the first `lookback`) and where the strategy can start.
    first = REGISTRY[name].implementation().min_candles(strategy_params(name)) - 1
    rng = random.Random(20261129)
    quiet = [i for i in range(n) if i not in by_index]
    sample = (
        set(by_index)
        | set(rng.sample(quiet, 400))
        | set(range(lookback - 3, lookback + 3))
        | {first - 1, first, n - 1}
    )
    for i in sorted(sample):
        signals_generate(
            pairs=[PAIR], timeframe="1h", provider=AsOfProvider(eurusd.rows[i][0])
        )
    outcomes_backfill()

    live = {s.timestamp: s for s in Signal.objects.all()}
    assert set(live) == {t.timestamp for t in trades}
    for trade in trades:
        signal = live[trade.timestamp]
        assert (
            signal.direction,
            signal.entry_price,
            signal.stop_loss,
            signal.take_profit,
            signal.score,
            signal.strategy,
            signal.status,
            signal.outcome,
            signal.exit_price,
            signal.pips,
            signal.closed_at,
        ) == (
            trade.direction,
            trade.entry_price,
            trade.stop_loss,
            trade.take_profit,
            trade.score,
            name,
            trade.status,
            trade.outcome,
            trade.exit_price,
            trade.pips,
            trade.closed_at,
        ), trade.timestamp


def test_windowed_indicators_equal_talib_on_each_candles_own_window(market_data):
    data = np.genfromtxt(market_data, delimiter=",", skip_header=1)[:, 1:5]
    high, low, close = data[:1500, 1], data[:1500, 2], data[:1500, 3]
    checks = {
        120: {
            "ema_50": (
                lambda lanes: ema(close, 50, lanes),
                lambda h, lo, c: talib.EMA(c, 50),
            ),
            "rsi_14": (
                lambda lanes: rsi(close, 14, lanes),
                lambda h, lo, c: talib.RSI(c, 14),
            ),
            "atr_14": (
                lambda lanes: atr(high, low, close, 14, lanes),
                lambda h, lo, c: talib.ATR(h, lo, c, 14),
            ),
            "macd_signal": (
                lambda lanes: macd(close, 12, 26, 9, lanes)[1],
                lambda h, lo, c: talib.MACD(c, 12, 26, 9)[1],
            ),
        },
        500: {
            "adx_14": (
                lambda lanes: adx(high, low, close, 14, lanes),
                lambda h, lo, c: talib.ADX(h, lo, c, 14),
            ),
        },
    }
    for lookback, indicators in checks.items():
        lanes = lanes_for(len(close), lookback)
        for key, (windowed, reference) in indicators.items():
            values = windowed(lanes)
            for i in range(lookback - 2, len(close), 7):
                s = i - lookback + 1 if i >= lookback else 0
                want = reference(high[s : i + 1], low[s : i + 1], close[s : i + 1])[-1]
                assert abs(values[i] - want) <= 1e-9 * abs(want), (key, i)


def test_whole_series_indicators_are_not_what_the_live_window_sees(market_data):
    """Why replay needs window semantics: EMA50 over all history differs."""
    close = np.genfromtxt(market_data, delimiter=",", skip_header=1)[:, 4]
    lanes = lanes_for(len(close), 100)
    windowed, whole = ema(close, 50, lanes), talib.EMA(close, 50)
    assert np.nanmax(np.abs(windowed[200:] - whole[200:])) > 1e-6


def test_replay_with_a_short_lookback_evaluates_each_window_as_the_generator():
    rng = np.random.default_rng(5)
    close = 1.1 + np.cumsum(rng.normal(0, 1e-3, 700))
    candles = Candles(close, close + 8e-4, close - 8e-4, close)
    fast = trend_momentum(candles, strategy.DEFAULT_PARAMS, 150)
    for i in range(100, 700, 3):
        found = strategy.evaluate(
            candles.high[max(0, i - 149) : i + 1],
            candles.low[max(0, i - 149) : i + 1],
            close[max(0, i - 149) : i + 1],
        )
        assert (found is not None) == bool(fast.sign[i]), i
        if found:
            assert found.confidence == fast.confidence[i]
