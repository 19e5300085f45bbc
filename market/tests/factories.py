from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.vocabulary import TIMEFRAME_SECONDS
from market.models import Candle

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)

# A candle file with one bad row of each kind, and the reason given for each line.
BAD = """timestamp,open,high,low,close,volume
2024-01-02T00:00:00Z,1.1000,1.1010,1.0990,1.1005,100
2024-01-02T01:00:00Z,1.1005,1.0990,1.1000,1.1000,100

not a time,1.1,1.2,1.0,1.1,1
2024-01-02T03:00:00Z,1.3,1.2,1.0,1.1,1
2024-01-02T04:00:00Z,1.1,1.2,1.0,0.9,1
2024-01-02T05:00:00Z,0,1.2,0,1.1,1
2024-01-02T06:00:00Z,1.1,1.2,1.0
2024-01-02T07:00:00Z,abc,1.2,1.0,1.1,1
2024-01-02T00:00:00Z,1.1,1.2,1.0,1.1,1
2024-01-02T08:00:00Z,1.1,1.2,1.0,1.1,-1
2024-01-02T09:00:00Z,1.1,1.2,1.0,1.1,1
"""

BAD_LINES = {
    3: "high 1.0990 is below low 1.1000",
    5: "unparsable timestamp 'not a time'",
    6: "open 1.3 is outside low–high 1.0–1.2",
    7: "close 0.9 is outside low–high 1.0–1.2",
    8: "open 0 is not positive",
    9: "expected 6 fields, found 4",
    10: "open 'abc' is not a number",
    11: "timestamp 2024-01-02T00:00:00Z repeats line 2",
    12: "volume -1 is negative",
}


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
