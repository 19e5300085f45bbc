"""Deterministic synthetic market data and signals for the quick start's demo."""

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from core.vocabulary import TIMEFRAME_SECONDS
from market.models import Candle
from market.windows import CandleWindow

from .generation import TREND_MOMENTUM, signal_from_window, strategy_params
from .models import Signal
from .outcomes import BackfillReport, outcomes_backfill
from .services import signals_insert
from .strategies import trend_momentum

DEMO_PAIRS = {
    "EUR/USD": 1.08,
    "GBP/USD": 1.27,
    "USD/JPY": 148.0,
    "AUD/USD": 0.66,
    "USD/CHF": 0.88,
    "BTC/USDT": 42000.0,
}
SYNTHETIC = "synthetic"
STEP = Decimal("0.00000001")


def synthetic_prices(seed: int, count: int, start_price: float) -> np.ndarray:
    """Open, high, low, close rows of a trending, mean-reverting random walk."""
    rng = random.Random(seed)
    rows = np.empty((count, 4))
    price, drift = start_price, 0.0
    volatility = 0.0015
    for n in range(count):
        if n % 120 == 0:  # a new regime every five days: trends for the strategy
            drift = rng.choice([-1, 1]) * rng.uniform(0.0001, 0.0004)
        change = drift + rng.gauss(0, volatility) + 0.02 * math.log(start_price / price)
        open_ = price
        close = open_ * math.exp(change)
        high = max(open_, close) * math.exp(abs(rng.gauss(0, volatility / 2)))
        low = min(open_, close) * math.exp(-abs(rng.gauss(0, volatility / 2)))
        rows[n] = (open_, high, low, close)
        price = close
    return rows


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places))


def demo_candles_create(*, count: int = 1500, timeframe: str = "1h") -> int:
    """Store synthetic candles (source="synthetic") of the demo pairs, same each run."""
    step = timedelta(seconds=TIMEFRAME_SECONDS[timeframe])
    end = datetime(2026, 1, 5, tzinfo=UTC)
    start = end - step * count
    candles = []
    for seed, (pair, price) in enumerate(DEMO_PAIRS.items()):
        places = 3 if price > 100 else 5
        for n, (o, h, lo, c) in enumerate(synthetic_prices(seed, count, price)):
            candles.append(
                Candle(
                    pair=pair,
                    timeframe=timeframe,
                    timestamp=start + step * n,
                    open=_decimal(o, places),
                    high=_decimal(h, places),
                    low=_decimal(lo, places),
                    close=_decimal(c, places),
                    volume=Decimal(1000 + n % 500),
                    source=SYNTHETIC,
                )
            )
    Candle.objects.bulk_create(candles, batch_size=2000, ignore_conflicts=True)
    return len(candles)


def demo_signals_create(*, timeframe: str = "1h", every: int = 6) -> list[Signal]:
    """Run the strategy through the synthetic history (every few candles), store hits.

    The live generator only looks at the newest candle; the demo replays history so
    that a newcomer sees signals with resolved outcomes straight away.
    """
    params = strategy_params()
    lookback = 500
    created: list[Signal] = []
    for pair in DEMO_PAIRS:
        rows = list(
            Candle.objects.series(pair, timeframe)
            .order_by("timestamp")
            .values_list("timestamp", "high", "low", "close")
        )
        prices = np.array([row[1:] for row in rows], dtype=float).reshape(-1, 3)
        candidates = []
        for end in range(trend_momentum.min_candles(params), len(rows), every):
            begin = max(0, end + 1 - lookback)
            window = CandleWindow(
                pair=pair,
                timestamps=[row[0] for row in rows[begin : end + 1]],
                high=prices[begin : end + 1, 0],
                low=prices[begin : end + 1, 1],
                close=prices[begin : end + 1, 2],
                last_close=rows[end][3],
            )
            signal = signal_from_window(window, timeframe, params)
            if signal is not None:
                candidates.append(signal)
        existing = set(
            Signal.objects.filter(
                pair=pair, timeframe=timeframe, strategy=TREND_MOMENTUM
            ).values_list("timestamp", flat=True)
        )
        fresh = [s for s in candidates if s.timestamp not in existing]
        if fresh:
            created += signals_insert(signals=fresh)
    return created


def demo_market_seed(*, candles: int = 1500) -> tuple[int, int, BackfillReport]:
    """Candles, signals and resolved outcomes for the demo; idempotent."""
    candles = demo_candles_create(count=candles)
    signals = demo_signals_create()
    return candles, len(signals), outcomes_backfill()
