from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from signals.models import TIMEFRAME_SECONDS, Candle, Signal
from signals.pricing import risk_reward

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal

    pair = "EUR/USD"
    timeframe = "1h"
    direction = "buy"
    entry_price = Decimal("1.10000")
    stop_loss = Decimal("1.09500")
    take_profit = Decimal("1.11000")
    confidence = Decimal("65.50")
    status = "active"
    outcome = "pending"
    strategy = "manual"
    timestamp = factory.Sequence(lambda n: START + timedelta(hours=n))
    risk_reward = factory.LazyAttribute(
        lambda s: risk_reward(s.entry_price, s.stop_loss, s.take_profit)
    )


def signal_payload(**overrides: object) -> dict:
    """A valid create body."""
    body = {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.095,
        "take_profit": 1.11,
        "confidence": 72.5,
        "timestamp": "2026-01-05T14:00:00Z",
        "strategy": "manual",
    }
    body.update(overrides)
    return body


def candles_create(
    pair: str,
    high: Sequence[float],
    low: Sequence[float],
    close: Sequence[float],
    *,
    timeframe: str = "1h",
    start: datetime = START,
    open_: Sequence[float] | None = None,
    timestamps: Sequence[datetime] | None = None,
) -> list[Candle]:
    """Store candles from price arrays, oldest first, one timeframe apart by default."""
    step = timedelta(seconds=TIMEFRAME_SECONDS[timeframe])
    stamps = timestamps or [start + step * n for n in range(len(close))]
    opens = open_ if open_ is not None else close
    candles = [
        Candle(
            pair=pair,
            timeframe=timeframe,
            timestamp=stamps[n],
            open=Decimal(repr(float(o))).quantize(Decimal("1e-8")),
            high=Decimal(repr(float(h))).quantize(Decimal("1e-8")),
            low=Decimal(repr(float(lo))).quantize(Decimal("1e-8")),
            close=Decimal(repr(float(c))).quantize(Decimal("1e-8")),
        )
        for n, (o, h, lo, c) in enumerate(zip(opens, high, low, close, strict=True))
    ]
    return Candle.objects.bulk_create(candles)
