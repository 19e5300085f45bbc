"""Where the generator gets candles: a small async interface and its providers.

`DatabaseProvider` (the default) reads stored candles; `market.klines.KlinesProvider`
reads a public exchange klines endpoint over HTTP. `MARKET_DATA_PROVIDER` picks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import numpy as np
from asgiref.sync import sync_to_async


class MarketDataError(Exception):
    """A provider could not deliver candles; the message says why."""


@dataclass(frozen=True)
class CandleWindow:
    """The newest candles of one pair and timeframe, oldest first."""

    pair: str
    timestamps: list[datetime]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    last_close: Decimal

    def __len__(self) -> int:
        return len(self.timestamps)


def window_from_rows(
    pair: str, rows: Sequence[tuple[datetime, Decimal, Decimal, Decimal]]
) -> CandleWindow:
    """Build a window from (timestamp, high, low, close) rows, oldest first."""
    prices = np.array([row[1:] for row in rows], dtype=float).reshape(-1, 3)
    return CandleWindow(
        pair=pair,
        timestamps=[row[0] for row in rows],
        high=prices[:, 0],
        low=prices[:, 1],
        close=prices[:, 2],
        last_close=Decimal(rows[-1][3]) if rows else Decimal(0),
    )


class MarketDataProvider(Protocol):
    async def windows(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        """The last `limit` candles of each pair; pairs without candles are left out."""
        ...


class DatabaseProvider:
    """Stored candles, every pair's window in one query (a window function)."""

    async def windows(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        return await sync_to_async(self.windows_sync)(pairs, timeframe, limit)

    def windows_sync(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        from .models import Candle

        rows = Candle.objects.latest_windows(pairs, timeframe, limit).values_list(
            "pair", "timestamp", "high", "low", "close"
        )
        grouped: dict[str, list[tuple]] = {}
        for pair, *values in rows:
            grouped.setdefault(pair, []).append(values)
        return {pair: window_from_rows(pair, items) for pair, items in grouped.items()}


def provider_for(name: str) -> MarketDataProvider:
    """The provider a MARKET_DATA_PROVIDER setting names."""
    if name == "database":
        return DatabaseProvider()
    if name == "klines":
        from .klines import KlinesProvider

        return KlinesProvider.from_settings()
    raise MarketDataError(f"unknown market data provider {name!r}")
